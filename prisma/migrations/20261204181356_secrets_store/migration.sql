-- CreateTable
CREATE TABLE "secret" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "value" TEXT NOT NULL,
    "createdBy" TEXT,
    "updatedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "secret_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "secret_name_key" ON "secret"("name");

-- Workers LISTEN on "meshflow_secrets" and reload the secrets they hold (webhook keys, run
-- masking) when one is created, changed or deleted.
CREATE OR REPLACE FUNCTION meshflow_notify_secret() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('meshflow_secrets', json_build_object('op', TG_OP, 'name', coalesce(NEW.name, OLD.name))::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER secret_notify
AFTER INSERT OR DELETE OR UPDATE OF "name", "value" ON "secret"
FOR EACH ROW EXECUTE FUNCTION meshflow_notify_secret();
