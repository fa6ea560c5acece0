#include "run_program.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "test_paths.hpp"

extern char** environ;

namespace imio_test {
namespace {

// Closes the spawn file actions on every path out.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&fa_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  void open(int fd, const std::filesystem::path& path, int flags) {
    posix_spawn_file_actions_addopen(&fa_, fd, path.c_str(), flags, 0644);
  }
  const posix_spawn_file_actions_t* get() const { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

}  // namespace

std::string read_text(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream text;
  text << f.rdbuf();  // one copy, not a character at a time (slow in the -O0 sanitizer build)
  return std::move(text).str();
}

ProgramResult run_program(const std::string& exe, const std::vector<std::string>& args,
                          const std::filesystem::path& input) {
  TempDir tmp;
  const auto out = tmp / "stdout";
  const auto err = tmp / "stderr";
  FileActions actions;
  actions.open(0, input, O_RDONLY);
  actions.open(1, out, O_WRONLY | O_CREAT | O_TRUNC);
  actions.open(2, err, O_WRONLY | O_CREAT | O_TRUNC);

  std::vector<std::string> storage{exe};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), actions.get(), nullptr, argv.data(), environ);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + exe);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  ProgramResult result;
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

}  // namespace imio_test
