/* Compiled first into every blob object: every symbol is local to the
 * blob, so all references are RIP-relative (no GOT, no PLT). */
#pragma GCC visibility push(hidden)
