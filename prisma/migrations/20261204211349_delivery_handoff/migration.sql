-- DropForeignKey
ALTER TABLE "delivery" DROP CONSTRAINT "delivery_eventSeq_fkey";

-- DropForeignKey
ALTER TABLE "delivery_outcome" DROP CONSTRAINT "delivery_outcome_eventSeq_fkey";

-- CreateTable
CREATE TABLE "delivery_handoff" (
    "id" BIGSERIAL NOT NULL,
    "leaseOwner" TEXT NOT NULL,
    "availableAt" TIMESTAMP(3) NOT NULL,
    "items" JSONB NOT NULL,

    CONSTRAINT "delivery_handoff_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "delivery_handoff_availableAt_idx" ON "delivery_handoff"("availableAt");
