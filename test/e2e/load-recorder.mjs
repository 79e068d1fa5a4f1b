// Preloaded with --import by startup-loads.e2e.test.ts: records every module a command loads
// (ES modules and CommonJS, through the module resolve hook) into the file LOADED_OUT at exit.
import fs from 'node:fs';
import module from 'node:module';

const seen = new Set();
module.registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    seen.add(resolved.url);
    return resolved;
  },
});
process.on('exit', () => {
  fs.writeFileSync(process.env.LOADED_OUT, [...seen].join('\n'));
});
