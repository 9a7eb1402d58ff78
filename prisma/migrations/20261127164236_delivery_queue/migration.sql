-- AlterTable
ALTER TABLE "event" ADD COLUMN     "ingress" TEXT NOT NULL DEFAULT 'events';

-- AlterTable
ALTER TABLE "dead_letter" ADD COLUMN     "deploymentId" TEXT;

-- CreateTable
CREATE TABLE "delivery" (
    "id" BIGSERIAL NOT NULL,
    "eventSeq" BIGINT NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "orderingKey" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "availableAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseOwner" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "delivery_availableAt_idx" ON "delivery"("availableAt");

-- CreateIndex
CREATE INDEX "delivery_deploymentId_orderingKey_id_idx" ON "delivery"("deploymentId", "orderingKey", "id");

-- CreateIndex
CREATE INDEX "delivery_eventSeq_idx" ON "delivery"("eventSeq");

-- AddForeignKey
ALTER TABLE "delivery" ADD CONSTRAINT "delivery_eventSeq_fkey" FOREIGN KEY ("eventSeq") REFERENCES "event"("seq") ON DELETE CASCADE ON UPDATE CASCADE;
