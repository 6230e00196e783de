// Writes the licences of the libraries bundled into ../static/dist, so the
// built UI ships them (served at /static/dist/THIRD-PARTY-LICENSES.txt).
import { readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url)));
let out = 'Third-party software bundled in the Vigie web UI (app.js, app.css).\n';
for (const name of Object.keys(pkg.dependencies).sort()) {
  const meta = JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url)));
  const text = readFileSync(new URL(`./node_modules/${name}/LICENSE`, import.meta.url), 'utf8');
  out += `\n==== ${name} ${meta.version} (${meta.license}) ====\n\n${text.trim()}\n`;
}
writeFileSync(new URL('../static/dist/THIRD-PARTY-LICENSES.txt', import.meta.url), out);
