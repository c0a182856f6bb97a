#!/usr/bin/env ruby
# Compiles the release's packages as a BOSH compilation VM does, for
# tests/bosh/test-packages.sh: for each package (dependencies first), a
# fresh compile directory with the files its spec names, found in
# bosh/src/ then bosh/blobs/, and its `packaging` script run there with
# BOSH_INSTALL_TARGET a fresh, empty directory and BOSH_PACKAGES_DIR where
# the dependencies were installed.
#
# Usage: build-packages.rb OUT_DIR PACKAGE...
#   OUT_DIR/packages/NAME: what each packaging script installed
#   OUT_DIR/compile/NAME:  its compile directory; NAME.log its output
#
# A dependency that is not in bosh/packages is a vendored package (`bosh
# vendor-package`); the one this release vendors, golang-1-linux, is
# stood in for by this machine's Go (its bin/go).  Fails, naming the
# package, on a glob that matches nothing and on a packaging script that
# fails (the tail of its log is shown).

require 'fileutils'
require 'yaml'

TOP = File.expand_path('../..', __dir__)
out_dir, *wanted = ARGV
abort 'usage: build-packages.rb OUT_DIR PACKAGE...' if wanted.empty?
pkgs_dir = File.join(out_dir, 'packages')
FileUtils.mkdir_p(pkgs_dir)

specs = {}
Dir.glob(File.join(TOP, 'bosh/packages/*/spec')).each do |f|
  spec = YAML.safe_load(File.read(f))
  specs[spec['name']] = spec
end

def vendored(name, pkgs_dir)
  dir = File.join(pkgs_dir, name)
  case name
  when 'golang-1-linux'
    goroot = `go env GOROOT`.strip
    abort "#{name}: no Go on this machine to stand in for it" if goroot.empty?
    FileUtils.mkdir_p(File.join(dir, 'bin'))
    FileUtils.ln_sf(File.join(goroot, 'bin/go'), File.join(dir, 'bin/go'))
  else
    abort "#{name}: not a package of bosh/packages, nor a known vendored one"
  end
end

order = []
visit = lambda do |name, path|
  abort "dependency cycle: #{(path + [name]).join(' -> ')}" if path.include?(name)
  return if order.include?(name)

  (specs.dig(name, 'dependencies') || []).each { |d| visit.call(d, path + [name]) }
  order << name
end
wanted.each { |w| visit.call(w, []) }

order.each do |name|
  spec = specs[name]
  unless spec
    vendored(name, pkgs_dir)
    next
  end
  compile = File.join(out_dir, 'compile', name)
  install = File.join(pkgs_dir, name)
  FileUtils.rm_rf([compile, install])
  FileUtils.mkdir_p([compile, install])
  (spec['files'] || []).each do |glob|
    found = %w[src blobs].flat_map do |base|
      root = File.join(TOP, 'bosh', base)
      Dir.glob(glob, base: root).map { |rel| [root, rel] }
    end
    found.select! { |root, rel| File.file?(File.join(root, rel)) }
    abort "#{name}: files: #{glob} matches nothing in bosh/src or bosh/blobs" if found.empty?
    found.each do |root, rel|
      dest = File.join(compile, rel)
      FileUtils.mkdir_p(File.dirname(dest))
      FileUtils.cp(File.join(root, rel), dest)
    end
  end
  FileUtils.cp(File.join(TOP, 'bosh/packages', name, 'packaging'), compile)
  env = { 'BOSH_COMPILE_TARGET' => compile, 'BOSH_INSTALL_TARGET' => install,
          'BOSH_PACKAGES_DIR' => pkgs_dir, 'BOSH_PACKAGE_NAME' => name,
          'BOSH_PACKAGE_VERSION' => 'dev' }
  log = File.join(out_dir, 'compile', "#{name}.log")
  start = Time.now
  ok = system(env, 'bash', '-e', 'packaging', chdir: compile,
              out: log, err: [:child, :out])
  unless ok
    warn "#{name}: packaging failed; the end of #{log}:"
    warn File.readlines(log).last(25).join
    exit 1
  end
  puts format('%s: built in %.0f s', name, Time.now - start)
end
