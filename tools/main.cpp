#include <cstdio>
int main() { std::puts("hwopt: CLI not built yet"); return 0; }
