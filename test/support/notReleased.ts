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
  /^stryker\.config\.json$/,
  /^tsconfig\.stryker\.json$/,
];
