/* The bench's handler: cursor n -> n+1 until argv[1] (default 2000), one item per slice. */
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    const char *c = getenv("BATON_CURSOR");
    long limit = argc > 1 ? atol(argv[1]) : 2000;
    long n = (c && *c) ? atol(c) : 0;
    n++;
    if (n >= limit) printf("{\"cursor\":null,\"counts\":{\"processed\":1}}\n");
    else printf("{\"cursor\":\"%ld\",\"counts\":{\"processed\":1}}\n", n);
    return 0;
}
