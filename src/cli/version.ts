/** The package version; version.test.ts keeps it equal to package.json's (the single binary has no package.json). */
export const VERSION = "0.1.0";
