// Jest transform for @actions/workflow-parser's two schema modules: they import JSON without an import
// attribute (their package is meant to be bundled), which Jest 30 deprecates with a warning on every
// test file. Adds `with { type: 'json' }`, as Node itself requires; nothing else changes.
module.exports = {
  process(source) {
    return { code: source.replace(/^(import \w+ from "(?:\.\.\/)[\w.-]+\.json");$/gm, '$1 with { type: "json" };') };
  },
};
