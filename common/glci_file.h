/* Opening a file whose name came from outside (a flag, a config line, a
 * folder others can write) for one whole read, without the hazards of what
 * the name may turn out to be: a FIFO never blocks the open (and with it a
 * program that has SIGTERM blocked), and a folder, a device or a socket is
 * refused with a message saying what it is instead of being read as a file.
 *
 * Errors: -1 with one line naming the path in err, like the rest of
 * common/. */
#ifndef GLCI_FILE_H
#define GLCI_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define GLCI_FILE_NOFOLLOW 0x1u   /* refuse a symbolic link (O_NOFOLLOW) */
#define GLCI_FILE_NULL_OK  0x2u   /* also accept the null device (--config /dev/null) */

/* What a mode is, for a message: "a folder", "a FIFO", "a character
 * device", "a block device", "a socket", "a symbolic link", "a regular
 * file". A static string. */
const char *glci_file_kind(mode_t mode);

/* Opens path read-only (O_NONBLOCK for the open, cleared after it,
 * O_CLOEXEC, O_NOCTTY, and O_NOFOLLOW with GLCI_FILE_NOFOLLOW) and checks
 * with fstat that it is a regular file (or, with GLCI_FILE_NULL_OK, the
 * null device) of at most max_bytes (0: any size). sb (may be NULL)
 * receives the fstat. Returns the descriptor (the caller closes it), or -1
 * with err naming path and what is wrong: "PATH: is a FIFO, not a regular
 * file", "PATH: 70000 bytes, larger than a ... can be (65536)" (what:
 * "a key file"...), "PATH: is a symbolic link", or the open's error. */
int glci_file_open_regular(const char *path, unsigned opts, uint64_t max_bytes,
                           const char *what, struct stat *sb, char *err, size_t errlen);

/* Reads fd (from glci_file_open_regular) to its end, but never more than
 * max_bytes + 1 bytes: *len == max_bytes + 1 tells a file larger than
 * max_bytes (one that grew since its fstat, or a null device fed for ever)
 * from one that fits. size_hint (the fstat's size) sizes the first buffer.
 * *text (the caller frees it; not terminated) and *len are set on success.
 * Returns 0, or the errno of a failed read (*text NULL). */
int glci_file_read_fd(int fd, uint64_t max_bytes, uint64_t size_hint, char **text,
                      size_t *len);

/* The one check before a program writes path through a file beside it and
 * a rename into place: path must be missing or a regular file, since the
 * rename replaces whatever node stands there. Refused, with nothing
 * written: a character or block device (a rename over /dev/null as root
 * would replace it), a FIFO, a socket, a folder, and a symbolic link,
 * whatever it points to (the rename would replace the link with a file,
 * and a link planted in a folder others can write would otherwise choose
 * where a program run as root writes; name the link's target instead).
 * Not followed: lstat. Returns 0, or -1 with err "PATH: is a FIFO; only a
 * regular file (or a new one) is written there" or "PATH: REASON" when
 * lstat fails other than with ENOENT (a folder on the way that cannot be
 * searched, a part of the path that is not a folder). */
int glci_file_check_replace(const char *path, char *err, size_t errlen);

/* Makes something new of the caller's at a fresh temporary name beside
 * path, ".NAME.XXXXXX" (NAME path's base name, XXXXXX random) written into
 * tmp (len bytes): a file opened write-only with mode (less the umask),
 * its descriptor returned, or with dir set a folder of mode 0700 (0
 * returned). The exclusive create (O_CREAT|O_EXCL|O_NOFOLLOW, mkdir)
 * never opens what stands at a name: a planted file, link or FIFO is
 * EEXIST and another name is drawn. An fstat then checks that what was
 * made is a regular file (or folder) of this user. -1 with errno on
 * failure, nothing left behind. The one way every writer that renames a
 * complete file into place makes its temporary. */
int glci_file_tmp_make(char *tmp, size_t len, const char *path, int dir, mode_t mode);

/* 1 when the folder entry is a temporary glci_file_tmp_make makes for a
 * file called base, else 0. */
int glci_file_tmp_of(const char *entry, const char *base);

/* Renames tmp (a complete file) to path, once path is still missing or a
 * regular file (glci_file_check_replace); tmp is removed on any failure.
 * 0, or -1 with err: glci_file_check_replace's line, or "cannot write
 * PATH: REASON". */
int glci_file_place(const char *tmp, const char *path, char *err, size_t errlen);

#endif
