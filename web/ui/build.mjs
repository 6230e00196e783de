// Builds the UI bundle into ../static/dist (committed, embedded by go:embed)
// with esbuild: app.js (Cytoscape.js, uPlot and src/app.js), app.css, and
// the bundled libraries' licences. `node build.mjs --check` builds in
// memory and fails if the committed files differ from what the sources and
// the locked dependencies give, so a source change without `make ui`
// is caught by `make test-ui`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';

const out = new URL('../static/dist/', import.meta.url);
const check = process.argv.includes('--check');

const common = { bundle: true, minify: true, write: false, logLevel: 'warning', legalComments: 'none' };
const js = await build({ ...common, entryPoints: [new URL('./src/app.js', import.meta.url).pathname], format: 'iife', target: 'es2020', outfile: 'app.js' });
const css = await build({ ...common, entryPoints: [new URL('./src/app.css', import.meta.url).pathname], outfile: 'app.css' });

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url)));
let licences = 'Third-party software bundled in the Vigie web UI (app.js, app.css).\n';
for (const name of Object.keys(pkg.dependencies).sort()) {
  const meta = JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url)));
  const text = readFileSync(new URL(`./node_modules/${name}/LICENSE`, import.meta.url), 'utf8');
  licences += `\n==== ${name} ${meta.version} (${meta.license}) ====\n\n${text.trim()}\n`;
}

const files = {
  'app.js': js.outputFiles[0].contents,
  'app.css': css.outputFiles[0].contents,
  'THIRD-PARTY-LICENSES.txt': new TextEncoder().encode(licences),
};
let stale = [];
for (const [name, data] of Object.entries(files)) {
  const url = new URL(name, out);
  if (check) {
    let have;
    try {
      have = readFileSync(url);
    } catch {
      have = Buffer.alloc(0);
    }
    if (Buffer.compare(have, Buffer.from(data)) !== 0) stale.push(name);
  } else {
    mkdirSync(out, { recursive: true });
    writeFileSync(url, data);
    console.log(`web/static/dist/${name}: ${data.length} bytes`);
  }
}
if (stale.length) {
  console.error(`web/static/dist is stale (${stale.join(', ')}): run make ui and commit the result`);
  process.exit(1);
}
