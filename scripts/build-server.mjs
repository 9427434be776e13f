// Compiles server.ts (and the server code it imports) into dist/server.js for
// `npm start`, so production runs plain Node with no TypeScript loader. npm
// packages stay external and are loaded from node_modules.
import { build } from "esbuild";

await build({
  entryPoints: ["server.ts"],
  outfile: "dist/server.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  tsconfig: "tsconfig.json",
  sourcemap: true,
  logLevel: "warning",
});
console.log("Built dist/server.js");
