// Lint: typescript-eslint's recommended rules, the import graph's walls, and a file-length warning.
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

/** Adapters the core must never import: they are wired by the CLI (driver/cli.ts). */
const ADAPTERS = ["driver/targets", "driver/host", "driver/pulumi", "driver/mlflow", "driver/store", "driver/doctor", "driver/cli", "driver/cli.ts"];

export default tseslint.config(
  { ignores: ["node_modules/**", ".tools/**", ".mlops/**", "policy/node_modules/**", "tools/**", "ml/**", "dist/**", "bench/results/**"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: "driver/targets/local",
              from: "driver/targets/azure",
              message: "no target imports another target: move what both need to driver/host/ or a target-free room",
            },
            {
              target: "driver/targets/azure",
              from: "driver/targets/local",
              message: "no target imports another target: move what both need to driver/host/ or a target-free room",
            },
            { target: "driver/core", from: ADAPTERS, message: "the core imports no adapter: add a port in driver/core/ports.ts and wire it in the CLI" },
            {
              target: ["driver/profile", "driver/rollout", "driver/router", "driver/report"],
              from: ["driver/targets", "driver/cli", "driver/cli.ts"],
              message: "target-free logic imports no target: put the adapter in driver/targets/<target>/",
            },
          ],
        },
      ],
      "max-lines": ["warn", { max: 300, skipBlankLines: true, skipComments: true }],
      // `const { dropped: _dropped, ...rest } = x` leaves a name on purpose
      "@typescript-eslint/no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_" }],
    },
  },
  {
    // Pulumi's runtime mocks hand resource inputs over as `any` (pulumi.runtime.MockResourceArgs.inputs); the
    // infra tests read and mutate them as such.
    files: ["test/unit/infra/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
