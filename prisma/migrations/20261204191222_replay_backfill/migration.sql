-- CreateTable
CREATE TABLE "backfill" (
    "id" TEXT NOT NULL,
    "flowId" TEXT NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "flowVersionId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "since" TIMESTAMP(3),
    "until" TIMESTAMP(3),
    "eventIds" JSONB,
    "force" BOOLEAN NOT NULL DEFAULT false,
    "ratePerSecond" INTEGER NOT NULL DEFAULT 20,
    "status" TEXT NOT NULL DEFAULT 'running',
    "total" INTEGER NOT NULL,
    "worked" INTEGER NOT NULL DEFAULT 0,
    "queued" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "filtered" INTEGER NOT NULL DEFAULT 0,
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "lastStepAt" TIMESTAMP(3),
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "backfill_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backfill_mark" (
    "eventSeq" BIGINT NOT NULL,
    "flowVersionId" TEXT NOT NULL,
    "backfillId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backfill_mark_pkey" PRIMARY KEY ("eventSeq","flowVersionId")
);

-- CreateIndex
CREATE INDEX "backfill_flowId_createdAt_idx" ON "backfill"("flowId", "createdAt");
