// The loopback HTTP server of the resource tests (http_server.py), started
// on 127.0.0.1 with an ephemeral port and stopped at scope end; it also
// exits by itself after a few minutes whatever happens to the test.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_paths.hpp"

extern char** environ;

namespace imio_test {

class LoopbackServer {
 public:
  /// Serves the files of `root`. ok() is false when python3 is missing or
  /// the server did not start within 10 s.
  explicit LoopbackServer(const std::filesystem::path& root) {
    // Proxies of the environment must not see loopback requests.
    for (const char* v : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      ::unsetenv(v);
    }
    const std::string python = IMIO_TEST_PYTHON;
    if (python.empty() || !std::filesystem::exists(python)) return;
    const std::string port_file = (state_ / "port").string();
    log_ = state_ / "requests.log";
    std::vector<std::string> args = {python,   IMIO_TEST_HTTP_SERVER, "--root",        root.string(), "--port-file",
                                     port_file, "--log",               log_.string(), "--lifetime",  "240"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return;
    }
    for (int i = 0; i < 200 && port_.empty(); ++i) {
      std::ifstream f(port_file);
      std::getline(f, port_);
      if (port_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~LoopbackServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  bool ok() const { return !port_.empty(); }
  /// "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + port_ + path; }
  /// The paths requested so far, in order.
  std::vector<std::string> requests() const {
    std::vector<std::string> out;
    std::ifstream f(log_);
    for (std::string line; std::getline(f, line);) out.push_back(line);
    return out;
  }
  /// How many requests asked for `path`.
  std::size_t count(const std::string& path) const {
    std::size_t n = 0;
    for (const auto& r : requests()) n += r == path ? 1 : 0;
    return n;
  }

 private:
  TempDir state_;
  std::filesystem::path log_;
  std::string port_;
  pid_t pid_ = -1;
};

}  // namespace imio_test
