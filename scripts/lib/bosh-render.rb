#!/usr/bin/env ruby
# Renders a BOSH job's templates as the director would: the job's spec, a
# manifest fragment and ERB, with what templates call in bosh-template: p,
# if_p, spec, link, if_link.  The release's tests (tests/bosh/) and
# scripts/cell-sim, which configures its cells from the jobs' templates,
# use it.
#
# Usage: bosh-render.rb [--root DIR] JOB_DIR MANIFEST.json OUT_DIR USED_FILE
#
#   MANIFEST.json: {"properties": {...nested, as in a deployment
#   manifest...}, "links": {"NAME": {"instances": [{"address": ...}],
#   "properties": {...}}}, "spec": {"ip": ..., "id": ..., ...}}
#
# Writes each template of the spec's "templates" to OUT_DIR/<its path>, and
# appends the names of the properties the templates read to USED_FILE (the
# caller checks that every declared property is read by some rendering).
# What lands under bin/ is executable, as on a VM.  With --root, every
# "/var/vcap/" of what is rendered becomes "DIR/": a test runs the job's
# scripts in a scratch tree laid out as /var/vcap is (jobs/, packages/,
# sys/run/, sys/log/, data/, store/).
# Fails, naming the template, on a property that the spec does not declare,
# on one that is neither set nor has a default, and on a link the spec does
# not consume.

require 'erb'
require 'fileutils'
require 'json'
require 'ostruct'
require 'yaml'

class RenderError < StandardError; end

# What if_p and if_link return: runs the else block when theirs did not.
class ElseBlock
  def initialize(taken)
    @taken = taken
  end

  def else
    yield unless @taken
  end
end

# A consumed link: its instances and its properties.
class Link
  attr_reader :instances

  def initialize(name, data)
    @name = name
    @instances = (data['instances'] || []).map { |i| OpenStruct.new(i) }
    @properties = data['properties'] || {}
  end

  def address
    @instances.first&.address
  end

  def p(name, *default)
    value = dig(@properties, name)
    return value unless value.nil?
    return default.first unless default.empty?

    raise RenderError, "link #{@name}: property #{name} not set"
  end
end

def dig(hash, dotted)
  dotted.split('.').reduce(hash) do |h, key|
    h.is_a?(Hash) ? h[key] : nil
  end
end

# The binding templates are evaluated in.
class Context
  def initialize(spec, manifest, used)
    @declared = spec['properties'] || {}
    @consumed = (spec['consumes'] || []).map { |c| c['name'] }
    @properties = manifest['properties'] || {}
    @links = manifest['links'] || {}
    @spec = OpenStruct.new({ 'name' => spec['name'], 'index' => 0,
                             'id' => 'instance-id', 'ip' => '10.0.0.11',
                             'address' => '10.0.0.11',
                             'deployment' => 'cf', 'az' => 'z1',
                             'bootstrap' => true }
                           .merge(manifest['spec'] || {}))
    @used = used
  end

  attr_reader :spec

  def binding_for_template
    binding
  end

  # [found, value] for property NAME (set, else its spec default).
  def lookup(name)
    unless @declared.key?(name)
      raise RenderError, "p('#{name}'): not declared in the job's spec"
    end

    @used << name
    value = dig(@properties, name)
    return [true, value] unless value.nil?

    decl = @declared[name] || {}
    return [true, decl['default']] if decl.key?('default')

    [false, nil]
  end

  def p(name, *default)
    found, value = lookup(name)
    return value if found
    return default.first unless default.empty?

    raise RenderError, "Can't find property '#{name}'"
  end

  def if_p(*names)
    values = names.map { |n| lookup(n) }
    taken = values.all?(&:first)
    yield(*values.map(&:last)) if taken
    ElseBlock.new(taken)
  end

  def link(name)
    unless @consumed.include?(name)
      raise RenderError, "link('#{name}'): not consumed in the job's spec"
    end
    raise RenderError, "link #{name}: not provided" unless @links.key?(name)

    Link.new(name, @links[name])
  end

  def if_link(name)
    taken = @consumed.include?(name) && @links.key?(name)
    yield link(name) if taken
    ElseBlock.new(taken)
  end
end

root = nil
if ARGV.first == '--root'
  ARGV.shift
  root = ARGV.shift
end
job_dir, manifest_file, out_dir, used_file = ARGV
unless used_file
  warn 'usage: bosh-render.rb [--root DIR] JOB_DIR MANIFEST.json OUT_DIR USED_FILE'
  exit 2
end
spec = YAML.safe_load(File.read(File.join(job_dir, 'spec')))
manifest = JSON.parse(File.read(manifest_file))
used = []
status = 0
(spec['templates'] || {}).each do |source, dest|
  context = Context.new(spec, manifest, used)
  text = File.read(File.join(job_dir, 'templates', source))
  begin
    out = ERB.new(text, trim_mode: '-').result(context.binding_for_template)
  rescue StandardError => e
    warn "#{spec['name']}/templates/#{source}: #{e.message}"
    status = 1
    next
  end
  out = out.gsub('/var/vcap/', "#{root}/") if root
  path = File.join(out_dir, dest)
  FileUtils.mkdir_p(File.dirname(path))
  File.write(path, out)
  File.chmod(0o755, path) if dest.start_with?('bin/')
end
File.open(used_file, 'a') { |f| used.uniq.each { |n| f.puts(n) } }
exit status
