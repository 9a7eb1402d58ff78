-- AlterTable
ALTER TABLE "run" ADD COLUMN     "scheduledFor" TIMESTAMP(3);

-- CreateIndex
CREATE UNIQUE INDEX "run_deploymentId_scheduledFor_key" ON "run"("deploymentId", "scheduledFor");
