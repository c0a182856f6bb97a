#!/usr/bin/env ruby
# Applies BOSH ops files to a manifest as the bosh CLI does (go-patch), for
# the release's tests: what `bosh int MANIFEST -o OPS...` prints.
#
# Usage: apply-ops.rb MANIFEST.yml OPS.yml... > RESULT.yml
#
# The subset of go-patch that ops files use: "replace" and "remove"; path
# tokens "key", "index", "-" (after the last element), "name=value" (the
# element whose name is value), each optionally followed by "?" (absent:
# made, for replace; ignored, for remove); ":before" and ":after" after a
# "name=value" token insert next to that element.  Like the CLI, an op
# whose path does not resolve is an error naming the op and the token.

require 'yaml'

class OpError < StandardError; end

Token = Struct.new(:key, :index, :append, :match, :optional, :insert)

def parse_path(path)
  raise OpError, "path must start with '/': #{path}" unless path.start_with?('/')

  path[1..].split('/', -1).map do |raw|
    t = Token.new
    t.insert = Regexp.last_match(1).to_sym if raw.sub!(/:(before|after)\z/, '')
    t.optional = raw.end_with?('?')
    raw = raw.chomp('?')
    if raw == '-'
      t.append = true
    elsif raw =~ /\A\d+\z/
      t.index = raw.to_i
    elsif raw.include?('=')
      t.match = raw.split('=', 2)
    else
      t.key = raw
    end
    t
  end
end

def describe(t)
  return '-' if t.append
  return t.index.to_s if t.index
  return "#{t.match[0]}=#{t.match[1]}" if t.match

  t.key
end

# The child of NODE that token T names, made (an empty map) if T is
# optional and MAKE; nil if absent.
def child(node, t, make)
  if t.match
    raise OpError, "#{describe(t)}: not an array" unless node.is_a?(Array)

    found = node.find { |e| e.is_a?(Hash) && e[t.match[0]] == t.match[1] }
    if found.nil? && t.optional && make
      found = { t.match[0] => t.match[1] }
      node << found
    end
    found
  elsif t.index
    raise OpError, "#{describe(t)}: not an array" unless node.is_a?(Array)

    node[t.index]
  else
    raise OpError, "#{describe(t)}: not a map" unless node.is_a?(Hash)

    node[t.key] = {} if !node.key?(t.key) && t.optional && make
    node[t.key]
  end
end

def apply(doc, op)
  tokens = parse_path(op['path'])
  *parents, last = tokens
  node = doc
  optional = false
  parents.each do |t|
    optional ||= t.optional
    nxt = child(node, t, op['type'] == 'replace' && optional)
    if nxt.nil?
      return doc if op['type'] == 'remove' && optional

      raise OpError, "#{describe(t)}: not found"
    end
    node = nxt
  end
  optional ||= last.optional

  case op['type']
  when 'replace'
    value = op['value']
    if last.append
      raise OpError, '-: not an array' unless node.is_a?(Array)

      node << value
    elsif last.insert
      i = node.index { |e| e.is_a?(Hash) && e[last.match[0]] == last.match[1] }
      raise OpError, "#{describe(last)}: not found" if i.nil?

      node.insert(last.insert == :after ? i + 1 : i, value)
    elsif last.match
      i = node.index { |e| e.is_a?(Hash) && e[last.match[0]] == last.match[1] }
      if i
        node[i] = value
      elsif optional
        node << value
      else
        raise OpError, "#{describe(last)}: not found"
      end
    elsif last.index
      raise OpError, "#{last.index}: not found" unless last.index < node.size

      node[last.index] = value
    else
      raise OpError, "#{last.key}: not a map" unless node.is_a?(Hash)
      raise OpError, "#{last.key}: not found" unless node.key?(last.key) || optional

      node[last.key] = value
    end
  when 'remove'
    found = if last.match
              node.index { |e| e.is_a?(Hash) && e[last.match[0]] == last.match[1] }
            elsif last.index
              last.index < node.size ? last.index : nil
            else
              node.key?(last.key) ? last.key : nil
            end
    if found.nil?
      return doc if optional

      raise OpError, "#{describe(last)}: not found"
    end
    node.is_a?(Array) ? node.delete_at(found) : node.delete(found)
  else
    raise OpError, "unknown type '#{op['type']}'"
  end
  doc
end

manifest_file, *ops_files = ARGV
abort 'usage: apply-ops.rb MANIFEST.yml OPS.yml...' if ops_files.empty?
doc = YAML.safe_load(File.read(manifest_file))
ops_files.each do |file|
  YAML.safe_load(File.read(file)).each_with_index do |op, i|
    apply(doc, op)
  rescue OpError => e
    abort "#{file}: op #{i} (#{op['type']} #{op['path']}): #{e.message}"
  end
end
puts doc.to_yaml
