-- AlterTable
ALTER TABLE "event" ADD COLUMN     "considered" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "delivery_outcome" ADD COLUMN     "durationMs" DOUBLE PRECISION,
ADD COLUMN     "output" JSONB,
ADD COLUMN     "reason" TEXT,
ADD COLUMN     "stepsMs" DOUBLE PRECISION,
ADD COLUMN     "task" TEXT;
