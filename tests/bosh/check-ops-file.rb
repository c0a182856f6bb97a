#!/usr/bin/env ruby
# Checks bosh/operations/use-cni-ovs.yml against a cf-deployment-shaped
# manifest (tests/bosh/fixtures/cf-deployment.yml), for check-templates:
# it applies (apply-ops.rb); nothing of silk is left; every job of ours it
# adds exists in bosh/jobs, with only properties and links its spec
# declares (BOSH ignores an undeclared property without a word);
# garden-cni reads the cni job's config and package; cfnet-db is an odd
# cluster of at least three with a persistent disk, deployed before the
# cells.  Then writes, for each of our jobs, the manifest fragment the
# director would render it with (render.rb's input: credentials become
# placeholder PEM, links get addresses), so that check-templates renders
# them and has the binaries check what they read.
#
# Usage: check-ops-file.rb MANIFEST.yml JOBS_DIR OUT_DIR OPS.yml...
# Prints one problem per line (nothing if none); writes OUT_DIR/JOB.json.

require 'json'
require 'open3'
require 'yaml'

manifest_file, jobs_dir, out_dir, *ops_files = ARGV
problems = []
out, err, status = Open3.capture3('ruby', File.join(__dir__, 'apply-ops.rb'),
                                  manifest_file, *ops_files)
unless status.success?
  puts "applying: #{err.strip}"
  exit 1
end
doc = YAML.safe_load(out)
groups = doc['instance_groups']

# Nothing of silk.
doc['releases'].each do |r|
  problems << "release #{r['name']} is still there" if r['name'] == 'silk'
end
groups.each do |g|
  g['jobs'].each do |j|
    problems << "#{g['name']}/#{j['name']}: a silk job is still there" if j['release'] == 'silk'
  end
end
(doc['variables'] || []).each do |v|
  problems << "variable #{v['name']} is still there" if v['name'].start_with?('silk')
end
problems << 'the manifest still names a silk credential' if out =~ /\(\(silk_/

# Flattens a job's properties to the dotted names a spec declares.
def declared_names(props, declared, prefix = '')
  props.flat_map do |k, v|
    name = prefix + k
    if declared.key?(name) || !v.is_a?(Hash)
      [name]
    else
      declared_names(v, declared, "#{name}.")
    end
  end
end

placeholder = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
ours = []
groups.each do |g|
  g['jobs'].each do |j|
    next unless j['release'] == 'cni-ovs'

    spec_file = File.join(jobs_dir, j['name'], 'spec')
    unless File.exist?(spec_file)
      problems << "#{g['name']}/#{j['name']}: no such job in bosh/jobs"
      next
    end
    spec = YAML.safe_load(File.read(spec_file))
    declared = spec['properties'] || {}
    declared_names(j['properties'] || {}, declared).each do |n|
      problems << "#{g['name']}/#{j['name']}: property #{n} is not in its spec" unless declared.key?(n)
    end
    %w[consumes provides].each do |kind|
      names = (spec[kind] || []).map { |l| l['name'] }
      (j[kind] || {}).each_key do |l|
        problems << "#{g['name']}/#{j['name']}: #{kind} #{l}: not in its spec" unless names.include?(l)
      end
    end
    ours << [g, j, spec]
  end
end

cell = groups.find { |g| g['name'] == 'diego-cell' }
cni = cell && cell['jobs'].find { |j| j['name'] == 'garden-cni' }
if cni
  props = cni['properties'] || {}
  { 'cni_config_dir' => '/var/vcap/jobs/cni/config/cni',
    'cni_plugin_dir' => '/var/vcap/packages/cni/bin' }.each do |k, want|
    problems << "garden-cni #{k} is #{props[k].inspect}, not #{want}" unless props[k] == want
  end
else
  problems << 'diego-cell has no garden-cni'
end
%w[openvswitch cni flowctl].each do |name|
  problems << "diego-cell has no #{name} job" unless cell && cell['jobs'].any? { |j| j['name'] == name }
end

db = groups.find { |g| g['jobs'].any? { |j| j['name'] == 'cfnet-db' } }
if db.nil?
  problems << 'no instance group runs cfnet-db'
else
  n = db['instances'].to_i
  problems << "cfnet-db has #{n} instances: Raft wants an odd number, at least 3" if n < 3 || n.even?
  problems << 'cfnet-db has no persistent disk' unless db['persistent_disk_type'] || db['persistent_disk']
  if groups.index(db) > groups.index(cell)
    problems << 'cfnet-db is deployed after the cells (their flowctl would wait for it)'
  end
end

# The fragments: credentials as placeholders, the cfnet_db link from the
# cfnet-db group's instances.
db_link = db && {
  'properties' => { 'port' => (db['jobs'].find { |j| j['name'] == 'cfnet-db' }['properties'] || {})['port'] || 6641 },
  'instances' => (1..db['instances'].to_i).map { |i| { 'address' => "10.0.200.#{i}" } },
}
ours.each do |g, j, spec|
  props = JSON.parse(JSON.generate(j['properties'] || {})
                     .gsub(/\(\([^)]*\)\)/) { placeholder.to_json[1..-2] })
  links = {}
  (spec['consumes'] || []).each do |l|
    links[l['name']] = db_link if l['type'] == 'cfnet_db' && db_link
  end
  fragment = { 'spec' => { 'name' => g['name'], 'ip' => '10.0.16.14',
                           'address' => g['name'] == db&.dig('name') ? '10.0.200.1' : '10.0.16.14',
                           'bootstrap' => true },
               'properties' => props, 'links' => links }
  File.write(File.join(out_dir, "#{j['name']}.json"), JSON.pretty_generate(fragment))
end
puts problems
exit(problems.empty? ? 0 : 1)
