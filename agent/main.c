/* glci-agent entry point. */
#include <stdio.h>

int main(int argc, char **argv)
{
    fprintf(stderr, "glci-agent: this program is not written yet\n");
    return 1;
}
