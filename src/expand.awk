# expand.awk: assembles the install script from the src/*.sql pieces named
# on the command line, printed as they are, except that a block
#
#	-- @expand src/<template>.sql.in
#	-- @ key = value
#	-- @end
#
# is replaced by the template with every @key@ replaced by its value: plain
# SQL in the generated script, one compact source for objects that differ
# only in names (the NPS and CSAT families, the direct retention aggregates,
# the health_score overloads).  Run by the Makefile; POSIX awk.
function replace_all(s, from, to,    out, i) {
	out = ""
	while ((i = index(s, from)) > 0) {
		out = out substr(s, 1, i - 1) to
		s = substr(s, i + length(from))
	}
	return out s
}
function expand(    line, k) {
	while ((getline line < template) > 0) {
		if (line ~ /^--:/)
			continue			# the template's own comments
		for (k in value)
			line = replace_all(line, "@" k "@", value[k])
		if (line ~ /@[A-Za-z_]+@/) {
			print "expand.awk: " template ": no value for " line > "/dev/stderr"
			exit 1
		}
		print line
	}
	close(template)
}
/^-- @expand / { template = $3; split("", value); in_block = 1; next }
in_block && /^-- @end/ { expand(); in_block = 0; next }
in_block && /^-- @ / {
	line = substr($0, 6)
	i = index(line, " = ")
	key = substr(line, 1, i - 1)
	gsub(/ /, "", key)
	value[key] = substr(line, i + 3)
	next
}
in_block { print FILENAME ": unexpected line in an @expand block: " $0 > "/dev/stderr"; exit 1 }
{ print }
