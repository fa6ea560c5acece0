// Links the objects of the one-header translation units (tests/headers):
// reaching main() means every public header compiled on its own.
#include <cstdio>

int main() {
  std::puts("every public header compiles on its own");
  return 0;
}
