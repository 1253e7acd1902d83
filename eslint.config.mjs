// Lint: the checks the compiler cannot make. Type-aware (typescript-eslint with the project's
// tsconfig) so promises that nobody awaits or that are passed where a callback's result is
// ignored are caught; import-x forbids cycles; no folder reaches past another's index.ts.
// Formatting is Prettier's (.prettierrc.json), so no style rules here.
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "packages/*/dist/**",
      "generated/**",
      "examples/**/generated/**",
      "node_modules/**",
      "coverage/**",
      "bench/results/**",
      "ui/dist/**",
      "third_party/grpcurl/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.mts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    // Resolves "./x.js" to x.ts as tsc does, so import-x can follow every import.
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver()],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/extensions": [".ts", ".js", ".mjs"],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "separate-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "import-x/no-cycle": "error",
      // `let x; const f = () => x; x = create(f)`: a closure reads it before its one assignment.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Production code reaches another folder only through its index.ts; tests may reach further.
    files: ["src/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\.\\./(cache|cli|client|config|health|registry|server|store|auth|http|watch|xds)/(?!index\\.js$).+",
              message: "import another folder only through its index.ts",
            },
          ],
        },
      ],
    },
  },
  // Tests drive untyped surfaces (a browser page, raw HTTP bodies): any is allowed there.
  { files: ["test/**/*.ts", "src/**/*.test.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
  // Scripts run on Node; the dashboard (ui/, plain ES modules with htm) in the browser.
  { files: ["scripts/**/*.mjs", "packages/*/scripts/**/*.mjs", "**/*.cjs"], languageOptions: { globals: globals.node } },
  { files: ["ui/**/*.js"], languageOptions: { globals: globals.browser } },
  { files: ["vitest.config.ts", "eslint.config.mjs"], ...tseslint.configs.disableTypeChecked },
);
