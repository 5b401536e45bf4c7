/* bench/libmodbus_server.c - the baseline of ex6's bench: a Modbus/TCP server
 * written with libmodbus (Debian's libmodbus-dev), in the shape of libmodbus's
 * own multi-client example (tests/bandwidth-server-many-up.c): one thread, a
 * select() loop over every connection, modbus_receive() + modbus_reply()
 * against a mapping of 100 coils, discrete inputs, holding and input
 * registers. Usage: libmodbus_server PORT (prints "Aguardando" when ready). */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: libmodbus_server PORT\n");
        return 2;
    }
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t* map = modbus_mapping_new(100, 100, 100, 100);
    if (!ctx || !map) return 1;
    int server = modbus_tcp_listen(ctx, 1024);
    if (server == -1) {
        fprintf(stderr, "listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    printf("Aguardando\n");
    fflush(stdout);
    fd_set all;
    FD_ZERO(&all);
    FD_SET(server, &all);
    int top = server;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        fd_set ready = all;
        if (select(top + 1, &ready, NULL, NULL, NULL) == -1) {
            if (errno == EINTR) continue;
            return 1;
        }
        for (int fd = 0; fd <= top; ++fd) {
            if (!FD_ISSET(fd, &ready)) continue;
            if (fd == server) {
                int client = accept(server, NULL, NULL);
                if (client == -1) continue;
                if (client >= FD_SETSIZE) { /* select() cannot watch it */
                    close(client);
                    continue;
                }
                FD_SET(client, &all);
                if (client > top) top = client;
            } else {
                modbus_set_socket(ctx, fd);
                int rc = modbus_receive(ctx, query);
                if (rc > 0) {
                    modbus_reply(ctx, query, rc, map);
                } else if (rc == -1) { /* closed, or an error: drop it */
                    close(fd);
                    FD_CLR(fd, &all);
                    while (top > server && !FD_ISSET(top, &all)) --top;
                }
            }
        }
    }
}
