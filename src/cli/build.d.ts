// Types for build.js, which stays JavaScript because bin.js loads it before TypeScript can run.
export declare const BUILD_DIR: string;
export declare const BUILD_ENTRY: string;
export declare function buildIsFresh(srcDir?: string, buildDir?: string): boolean;
