// The Node options the package's launcher (/usr/bin/switchyard, build/package/main.ts) runs the helper
// with; the idle bench runs its packaged helper with the same.
export const HELPER_NODE_FLAGS = ['--disable-warning=ExperimentalWarning'];
