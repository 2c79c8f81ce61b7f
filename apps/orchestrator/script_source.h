/* What sbai reads from a script's source: the names of the functions it
 * defines. The source is TorchScript-looking text that is not interpreted;
 * only lines of the form
 *
 *     def NAME(...
 *
 * count (leading spaces or tabs allowed, at least one blank between `def`
 * and NAME, optional blanks before the parenthesis). Lines in comments or
 * strings that happen to look like that count too: the scan is deliberately
 * simple.
 *
 * Plain C with no Redis dependency.
 */
#ifndef SBAI_SCRIPT_SOURCE_H
#define SBAI_SCRIPT_SOURCE_H

#include <stddef.h>

/* True when src[0..len) defines a function called exactly name[0..name_len). */
int sbai_script_defines(const char *src, size_t len, const char *name, size_t name_len);

/* Calls found(name, name_len, arg) for every function definition in
 * src[0..len), in order; returns how many there were. */
size_t sbai_script_each_def(const char *src, size_t len,
                            void (*found)(const char *name, size_t name_len, void *arg),
                            void *arg);

/* True when text[0..len) is a Python identifier ([A-Za-z_][A-Za-z0-9_]*),
 * at most 128 characters. Entry point and function names must be. */
int sbai_script_is_identifier(const char *text, size_t len);

#endif
