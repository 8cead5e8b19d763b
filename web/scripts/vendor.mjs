// Copies the browser files jsmkit serves from /static/vendor/ out of node_modules.
//
// Usage (from web/):  npm ci && node scripts/vendor.mjs
//
// Plain node, no dependencies. Exits non-zero with a clear message when a
// package is not installed or an expected file is missing, so a broken
// vendor step cannot go unnoticed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(webDir, "node_modules");
const vendor = join(webDir, "static", "vendor");

// [package, file inside the package, destination inside static/vendor]
const FILES = [
  ["htmx.org", "dist/htmx.esm.min.js", "htmx.esm.min.js"],
  ["htmx.org", "dist/htmx.esm.min.js.map", "htmx.esm.min.js.map"],
  ["htmx.org", "dist/ext/hx-sse.js", "ext/hx-sse.js"],
  ["leaflet", "dist/leaflet-src.esm.js", "leaflet/leaflet-src.esm.js"],
  ["leaflet", "dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet", "dist/images/layers.png", "leaflet/images/layers.png"],
  ["leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"],
  ["leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"],
  ["leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"],
  ["leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"],
  ["sortablejs", "modular/sortable.esm.js", "sortable/sortable.esm.js"],
];

function fail(message) {
  console.error(`vendor.mjs: ${message}`);
  process.exit(1);
}

const wanted = JSON.parse(readFileSync(join(webDir, "package.json"), "utf8")).dependencies ?? {};
const problems = [];

for (const pkg of new Set(FILES.map(([name]) => name))) {
  const manifest = join(modules, pkg, "package.json");
  if (!existsSync(manifest)) {
    problems.push(`package '${pkg}' is not installed (no ${manifest}); run 'npm ci' in web/ first`);
    continue;
  }
  const installed = JSON.parse(readFileSync(manifest, "utf8")).version;
  if (wanted[pkg] !== undefined && wanted[pkg] !== installed) {
    problems.push(`package '${pkg}' is ${installed} in node_modules but package.json pins ${wanted[pkg]}; run 'npm ci'`);
  }
}
for (const [pkg, file] of FILES) {
  const source = join(modules, pkg, file);
  if (existsSync(join(modules, pkg, "package.json")) && !existsSync(source)) {
    problems.push(`missing file ${pkg}/${file} (expected at ${source})`);
  }
}
if (problems.length > 0) {
  fail(`cannot vendor front-end assets:\n  - ${problems.join("\n  - ")}`);
}

for (const [pkg, file, dest] of FILES) {
  const source = join(modules, pkg, file);
  const target = join(vendor, dest);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  console.log(`vendored ${pkg}/${file} -> static/vendor/${dest} (${statSync(target).size} bytes)`);
}
console.log(`vendor.mjs: ${FILES.length} files copied into ${vendor}`);
