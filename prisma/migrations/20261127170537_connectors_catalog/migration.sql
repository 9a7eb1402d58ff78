-- AlterTable
ALTER TABLE "connector_instance" ADD COLUMN     "backlog" INTEGER,
ADD COLUMN     "deployed" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "eventsIn" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "eventsOut" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastEventAt" TIMESTAMP(3),
ADD COLUMN     "statusAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "event_type" ADD COLUMN     "discovered" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "lastSeenAt" TIMESTAMP(3),
ADD COLUMN     "validation" TEXT NOT NULL DEFAULT 'off';

-- CreateIndex
CREATE UNIQUE INDEX "connector_instance_name_key" ON "connector_instance"("name");

-- Workers LISTEN on "meshflow_connectors": deploy, undeploy or an edit of a connector wakes
-- them. Status and counter writes (the workers' own) do not, or every status line would
-- make every worker reload.
CREATE OR REPLACE FUNCTION meshflow_notify_connector() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('meshflow_connectors', json_build_object('op', TG_OP, 'id', coalesce(NEW.id, OLD.id))::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER connector_notify
AFTER INSERT OR DELETE OR UPDATE OF "deployed", "config", "secrets", "kind", "name" ON "connector_instance"
FOR EACH ROW EXECUTE FUNCTION meshflow_notify_connector();
