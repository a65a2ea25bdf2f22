/** Tracked paths that change nothing a release trains, deploys or allows: no CI system's path filter needs them. */
export const NOT_RELEASED: readonly RegExp[] = [
  /^docs\//,
  /^README\.md$/,
  /^test\//,
  /^bench\//,
  /^\.ci\//,
  /^scripts\//,
  /^tools\//,
  /^\.gitignore$/,
  /^\.mocharc\.json$/,
  /^eslint\.config\.js$/,
  /^\.prettierrc$/,
  /^\.prettierignore$/,
  /^\.npmrc$/,
  /^stryker\.config\.json$/,
  /^tsconfig\.stryker\.json$/,
];

/** One tracked file from each place that does change what a release trains, deploys or allows: every CI trigger must fire on them. */
export const RELEASED_EXAMPLES: readonly string[] = [
  "driver/targets/azure/index.ts",
  "ml/tests/test_train.py",
  "components/scoringEndpoint.ts",
  "config/stackConfig.ts",
  "policy/policies.ts",
  "Pulumi.prod.yaml",
  "package-lock.json",
  "bin/mlops.js",
];
