/* The end of a program that linked libcurl: without the libraries' exit
 * handlers.  OpenSSL's frees every table it built, milliseconds that a
 * login (the PAM module waits for its worker's exit) or git (which waits
 * for a helper's) would wait for, to give memory back to a process that
 * is ending.  The caller has let go of what is its own first: secrets
 * wiped, locks released. */
#ifndef CFT_CORE_QUICK_EXIT_H
#define CFT_CORE_QUICK_EXIT_H

/* Flushes stdio, runs LeakSanitizer's check in a sanitizer build (its
 * own exit handler would be skipped too), and _exit()s with status. */
void cft_quick_exit(int status) __attribute__((noreturn));

#endif
