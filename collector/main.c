/* glci-collector entry point. */
#include <stdio.h>

int main(int argc, char **argv)
{
    fprintf(stderr, "glci-collector: this program is not written yet\n");
    return 1;
}
