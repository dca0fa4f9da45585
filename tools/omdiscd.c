/* omdiscd: the autodiscovery daemon of the original tools. Here the node
 * daemon does the discovery itself: omdiscd runs `omd --discover` with the
 * original's options (-n, -i IFACE) and passes any omd option through. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fprintf(fp, "Usage: omdiscd [-n|--nodaemon] [-i|--interface IFACE] [omd options...]\n"
		    "\n"
		    "Starts the node daemon in autodiscovery mode (omd --discover): nodes find\n"
		    "each other by multicast and build the map without a file. Node ids are the\n"
		    "last two octets of each address. Without -i the interface of the default\n"
		    "route is used. See omdiscd(8) and omd(8).\n");
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], omd[PATH_MAX + 8];
	char **av = calloc(2 * (size_t)argc + 3, sizeof(char *));
	int ac = 0;
	ssize_t n;

	if (!av)
		return 1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(omd, sizeof(omd), "%s/omd", dirname(self));
	}
	av[ac++] = (n > 0 && access(omd, X_OK) == 0) ? omd : "omd";
	av[ac++] = "--discover";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--nodaemon"))
			av[ac++] = "-n";
		else if (!strncmp(argv[i], "--interface=", 12)) {
			av[ac++] = "-i";
			av[ac++] = argv[i] + 12;
		} else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--multicast-ttl")) {
			fprintf(stderr, "omdiscd: -m (multicast routing between networks) is not "
					"supported; nodes must share a network\n");
			return 2;
		} else
			av[ac++] = argv[i];
	}
	execvp(av[0], av);
	fprintf(stderr, "omdiscd: cannot run %s: %s\n", av[0], strerror(errno));
	return 1;
}
