/* Everything the Zig binding and its examples take from C, translated by
 * build.zig (translate-c). wsproto.h is found through -Dinclude-dir. */
#include "wsproto.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
