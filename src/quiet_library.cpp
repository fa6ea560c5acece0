// See quiet_library.hpp. How: a library reaches glibc's printf family
// through its own PLT (JUMP_SLOT relocations) or, built with -fno-plt,
// through GLOB_DAT slots of its GOT. Only those slots of the named
// library's image are rewritten. Guards, each of which leaves the library
// untouched (it then prints as before, nothing else changes): a shared
// library of its own; slots that hold what the dynamic linker would put
// there (the function dlsym() finds, or, with lazy binding, an address in
// the library's own code); glibc on x86-64/AArch64, whose dynamic sections
// hold relocated addresses (other systems compile the no-op). Symbols are
// looked up by name, so another version or build of a library is patched
// where it imports them and left alone where it does not. Each slot is
// written with one atomic pointer store; slots under RELRO are made
// writable for the write and read-only again, exactly the pages glibc
// protected (the RELRO end rounded down to a page, as glibc's
// _dl_protect_relro does, so the page shared with .got.plt/.data stays
// writable).
#include <imio/quiet_library.hpp>

#if defined(__linux__) && defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define IMIO_CAN_SILENCE 1
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>
#else
#define IMIO_CAN_SILENCE 0
#endif

namespace imio {
namespace {

#if IMIO_CAN_SILENCE

// The replacements: same signatures as glibc's, nothing written. The
// fortified variants (__*_chk) are what a _FORTIFY_SOURCE build of a library
// imports.
int quiet_vfprintf_chk(FILE*, int, const char*, va_list) { return 0; }
int quiet_vfprintf(FILE*, const char*, va_list) { return 0; }
int quiet_fprintf_chk(FILE*, int, const char*, ...) { return 0; }
int quiet_fprintf(FILE*, const char*, ...) { return 0; }
int quiet_printf_chk(int, const char*, ...) { return 0; }
int quiet_printf(const char*, ...) { return 0; }
int quiet_vprintf_chk(int, const char*, va_list) { return 0; }
int quiet_vprintf(const char*, va_list) { return 0; }
int quiet_fputs(const char*, FILE*) { return 0; }
int quiet_puts(const char*) { return 0; }
int quiet_fputc(int c, FILE*) { return c; }
std::size_t quiet_fwrite(const void*, std::size_t, std::size_t n, FILE*) { return n; }

struct Replacement {
  std::string_view symbol;
  void* function;
};

const Replacement kReplacements[] = {
    {"__vfprintf_chk", reinterpret_cast<void*>(&quiet_vfprintf_chk)},
    {"vfprintf", reinterpret_cast<void*>(&quiet_vfprintf)},
    {"__fprintf_chk", reinterpret_cast<void*>(&quiet_fprintf_chk)},
    {"fprintf", reinterpret_cast<void*>(&quiet_fprintf)},
    {"__printf_chk", reinterpret_cast<void*>(&quiet_printf_chk)},
    {"printf", reinterpret_cast<void*>(&quiet_printf)},
    {"__vprintf_chk", reinterpret_cast<void*>(&quiet_vprintf_chk)},
    {"vprintf", reinterpret_cast<void*>(&quiet_vprintf)},
    {"fputs", reinterpret_cast<void*>(&quiet_fputs)},
    {"puts", reinterpret_cast<void*>(&quiet_puts)},
    {"fputc", reinterpret_cast<void*>(&quiet_fputc)},
    {"putc", reinterpret_cast<void*>(&quiet_fputc)},
    {"fwrite", reinterpret_cast<void*>(&quiet_fwrite)},
};

#if defined(__x86_64__)
constexpr std::uint32_t kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr std::uint32_t kGlobDat = R_X86_64_GLOB_DAT;
#else
constexpr std::uint32_t kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr std::uint32_t kGlobDat = R_AARCH64_GLOB_DAT;
#endif

struct Search {
  const char* name = nullptr;  // the shared object to patch
  bool patched = false;
};

// What a slot may hold for us to replace it: the definition the dynamic
// linker resolves `symbol` to, or an address in the library's own executable
// segments (a lazy-binding stub not yet resolved).
bool expected_value(const void* current, std::string_view symbol, const dl_phdr_info* info) {
  const std::string name(symbol);
  if (current != nullptr && current == dlsym(RTLD_DEFAULT, name.c_str())) return true;
  const auto at = reinterpret_cast<ElfW(Addr)>(current);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const ElfW(Addr) begin = info->dlpi_addr + ph.p_vaddr;
    if (at >= begin && at < begin + ph.p_memsz) return true;
  }
  return false;
}

const void* replacement_for(std::string_view symbol) {
  for (const Replacement& r : kReplacements) {
    if (r.symbol == symbol) return r.function;
  }
  return nullptr;
}

// Writes `value` into the pointer-sized slot at `slot` with one atomic
// store, through mprotect when the slot lies in a page glibc made
// read-only (RELRO).
bool write_slot(ElfW(Addr) slot, const void* value, ElfW(Addr) relro_begin, ElfW(Addr) relro_end) {
  const bool read_only = slot >= relro_begin && slot < relro_end;
  const auto page = static_cast<ElfW(Addr)>(sysconf(_SC_PAGESIZE));
  void* first = reinterpret_cast<void*>(slot & ~(page - 1));
  if (read_only && mprotect(first, page, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(reinterpret_cast<const void**>(slot), value, __ATOMIC_RELEASE);
  if (read_only) mprotect(first, page, PROT_READ);
  return true;
}

int patch_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  if (info->dlpi_name == nullptr || std::strcmp(info->dlpi_name, search->name) != 0) return 0;
  const ElfW(Addr) base = info->dlpi_addr;
  const ElfW(Dyn)* dynamic = nullptr;
  ElfW(Addr) relro_begin = 0, relro_end = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn)*>(base + ph.p_vaddr);
    if (ph.p_type == PT_GNU_RELRO) {
      // the pages glibc protects: start and end rounded down to a page
      const auto page = static_cast<ElfW(Addr)>(sysconf(_SC_PAGESIZE));
      relro_begin = (base + ph.p_vaddr) & ~(page - 1);
      relro_end = (base + ph.p_vaddr + ph.p_memsz) & ~(page - 1);
    }
  }
  if (dynamic == nullptr) return 1;
  // glibc stores the loaded addresses in the dynamic section on these
  // architectures; a value below the load base is still a file offset.
  const auto address = [base](ElfW(Addr) p) { return p < base ? p + base : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Rela)* jmprel = nullptr;
  const ElfW(Rela)* rela = nullptr;
  std::size_t jmprel_size = 0, rela_size = 0;
  bool rela_plt = true;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = reinterpret_cast<const ElfW(Sym)*>(address(d->d_un.d_ptr)); break;
      case DT_STRTAB: strtab = reinterpret_cast<const char*>(address(d->d_un.d_ptr)); break;
      case DT_JMPREL: jmprel = reinterpret_cast<const ElfW(Rela)*>(address(d->d_un.d_ptr)); break;
      case DT_PLTRELSZ: jmprel_size = d->d_un.d_val; break;
      case DT_PLTREL: rela_plt = d->d_un.d_val == DT_RELA; break;
      case DT_RELA: rela = reinterpret_cast<const ElfW(Rela)*>(address(d->d_un.d_ptr)); break;
      case DT_RELASZ: rela_size = d->d_un.d_val; break;
      default: break;
    }
  }
  if (symtab == nullptr || strtab == nullptr || !rela_plt) return 1;
  const auto patch_table = [&](const ElfW(Rela)* table, std::size_t bytes) {
    if (table == nullptr) return;
    for (std::size_t k = 0; k < bytes / sizeof(ElfW(Rela)); ++k) {
      const ElfW(Rela)& r = table[k];
      const auto type = static_cast<std::uint32_t>(ELF64_R_TYPE(r.r_info));
      if (type != kJumpSlot && type != kGlobDat) continue;
      const ElfW(Sym)& sym = symtab[ELF64_R_SYM(r.r_info)];
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC && ELF64_ST_TYPE(sym.st_info) != STT_NOTYPE) continue;
      const std::string_view symbol = strtab + sym.st_name;
      const void* replacement = replacement_for(symbol);
      if (replacement == nullptr) continue;
      const void* current = __atomic_load_n(reinterpret_cast<const void* const*>(base + r.r_offset), __ATOMIC_ACQUIRE);
      if (current == replacement) continue;  // already ours
      if (!expected_value(current, symbol, info)) continue;
      if (write_slot(base + r.r_offset, replacement, relro_begin, relro_end)) search->patched = true;
    }
  };
  patch_table(jmprel, jmprel_size);
  patch_table(rela, rela_size);
  return 1;
}

// The base name of a loaded object's path.
std::string_view base_name(std::string_view file) {
  const std::size_t slash = file.rfind('/');
  return file.substr(slash == std::string_view::npos ? 0 : slash + 1);
}

// The loaded objects whose file name starts with the prefix.
struct Named {
  std::string_view prefix;
  std::vector<std::string> files;
};

int collect_named(dl_phdr_info* info, std::size_t, void* data) {
  auto& named = *static_cast<Named*>(data);
  if (info->dlpi_name != nullptr && base_name(info->dlpi_name).starts_with(named.prefix)) {
    named.files.emplace_back(info->dlpi_name);
  }
  return 0;
}

// `symbol` in a library that is not in the global scope: one a plugin
// module (IMIO_PLUGIN_MODULES, loaded RTLD_LOCAL) brought in, looked up in
// the loaded objects named like the library. nullptr when none defines it.
void* local_definition(const char* symbol, std::string_view file_prefix) {
  Named named{file_prefix, {}};
  dl_iterate_phdr(collect_named, &named);  // dlopen below, outside the loader's lock
  for (const std::string& file : named.files) {
    void* handle = dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    void* defined = dlsym(handle, symbol);
    dlclose(handle);  // only the reference RTLD_NOLOAD added
    if (defined != nullptr) return defined;
  }
  return nullptr;
}

bool silence(const char* symbol, std::string_view file_prefix, const char* keep_variable) {
  if (const char* keep = keep_variable != nullptr ? std::getenv(keep_variable) : nullptr;
      keep != nullptr && *keep != '\0' && std::strcmp(keep, "0") != 0) {
    return false;
  }
  // The definition the dynamic linker resolved, and the object holding it.
  void* defined = dlsym(RTLD_DEFAULT, symbol);
  if (defined == nullptr) defined = local_definition(symbol, file_prefix);
  if (defined == nullptr) return false;
  Dl_info where{};
  if (dladdr(defined, &where) == 0 || where.dli_fname == nullptr) return false;
  // Only a shared library of its own: a static backend lives in the
  // program or in libimio, whose slots serve other code too.
  if (!base_name(where.dli_fname).starts_with(file_prefix)) return false;
  Search search;
  search.name = where.dli_fname;
  dl_iterate_phdr(patch_object, &search);
  return search.patched;
}

#else

bool silence(const char*, std::string_view, const char*) { return false; }

#endif

}  // namespace

bool silence_library_output(const char* symbol, std::string_view file_prefix, const char* keep_variable) noexcept {
  // dl_iterate_phdr holds the loader's lock while it walks: concurrent
  // calls patch one after the other, and a slot already ours is skipped.
  try {
    return symbol != nullptr && silence(symbol, file_prefix, keep_variable);
  } catch (...) {
    return false;
  }
}

}  // namespace imio
