/* Narrow suppressions for the static analysers that
 * tests/hardening/test_analyzer.sh runs (GCC's -fanalyzer, clang-tidy).
 * Each use says why at the place it is used. */
#pragma once

/* GCC 12's -fanalyzer loses a heap pointer once it is stored at a symbolic
 * index of a heap array (`list->items[list->n++] = strdup(...)`), and then
 * reports it leaked where the path next goes: every append to a growing
 * list reads as a leak.  Put BEGIN / END around the function that appends;
 * the Clang analyzer's unix.Malloc still checks it for leaks. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10  /* -fanalyzer came in 10 */
#define CFT_ANALYZER_ARRAY_STORES_BEGIN                                      \
	_Pragma("GCC diagnostic push")                                        \
	_Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define CFT_ANALYZER_ARRAY_STORES_END _Pragma("GCC diagnostic pop")
#else
#define CFT_ANALYZER_ARRAY_STORES_BEGIN
#define CFT_ANALYZER_ARRAY_STORES_END
#endif
