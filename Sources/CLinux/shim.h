/* Linux calls that Swift's Glibc module does not expose: xattrs, device numbers, namespaces. */
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/ioctl.h>

extern int unshare(int __flags);
static const int CLINUX_CLONE_NEWNS = 0x00020000;
static const int CLINUX_CLONE_NEWNET = 0x40000000;
static const long CLINUX_UTIME_OMIT = ((1l << 30) - 2l);
static const long CLINUX_UTIME_NOW = ((1l << 30) - 1l);

static inline dev_t clinux_makedev(unsigned int maj, unsigned int min) { return makedev(maj, min); }
static inline unsigned int clinux_major(dev_t d) { return major(d); }
static inline unsigned int clinux_minor(dev_t d) { return minor(d); }

/* The column count of the terminal on `fd` (TIOCGWINSZ), or 0 when it is not a terminal or
   reports no size (a pseudo-terminal nobody sized). */
static inline int clinux_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
    return ws.ws_col;
}
