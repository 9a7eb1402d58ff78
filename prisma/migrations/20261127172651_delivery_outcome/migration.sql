-- CreateTable
CREATE TABLE "delivery_outcome" (
    "id" BIGSERIAL NOT NULL,
    "eventSeq" BIGINT NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "error" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_outcome_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "delivery_outcome_eventSeq_idx" ON "delivery_outcome"("eventSeq");

-- CreateIndex
CREATE INDEX "delivery_outcome_at_idx" ON "delivery_outcome"("at");

-- AddForeignKey
ALTER TABLE "delivery_outcome" ADD CONSTRAINT "delivery_outcome_eventSeq_fkey" FOREIGN KEY ("eventSeq") REFERENCES "event"("seq") ON DELETE CASCADE ON UPDATE CASCADE;
