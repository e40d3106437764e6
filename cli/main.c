/* glci entry point. */
#include <stdio.h>

int main(int argc, char **argv)
{
    fprintf(stderr, "glci: this program is not written yet\n");
    return 1;
}
