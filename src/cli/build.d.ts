// Types for build.js, which stays JavaScript because bin.js loads it before TypeScript can run.
export declare const BUILD_DIR: string;
export declare const BUILD_ENTRY: string;
export declare function buildIsFresh(srcDir?: string, buildDir?: string): boolean;
export declare const WEB_BUILD_DIR: string;
export declare function webBuildIsFresh(webDir?: string, buildDir?: string): boolean;
