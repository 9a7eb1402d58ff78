-- AlterTable
ALTER TABLE "dead_letter" ADD COLUMN     "replayedToDeploymentId" TEXT;

-- CreateIndex
CREATE INDEX "dead_letter_createdAt_eventSeq_idx" ON "dead_letter"("createdAt", "eventSeq");
