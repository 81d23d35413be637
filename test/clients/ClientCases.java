// Runs the client test cases of test/clients/cases/*.txt through the
// PostgreSQL JDBC driver, the way BI tools (Tableau, Metabase, ...) query:
// plain and prepared statements, parameters bound with setDouble, result
// types read from ResultSetMetaData.  Each prepared case runs 6 times, so
// that the driver switches to a named server-side statement and binary
// transfer (prepareThreshold = 5) on the last runs.
//
// Usage: java -cp /usr/share/java/postgresql.jar:DIR ClientCases JDBC_URL FILE...
// Prints one line per case; exits 1 if any failed.

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class ClientCases {
	static int failures = 0;

	public static void main(String[] args) throws Exception {
		try (Connection conn = DriverManager.getConnection(args[0])) {
			for (int i = 1; i < args.length; i++)
				runFile(conn, Path.of(args[i]));
		}
		System.exit(failures == 0 ? 0 : 1);
	}

	// Splits a case file into blocks of fields (see test/clients/README.md)
	static List<Map<String, String>> parse(Path file) throws Exception {
		List<Map<String, String>> blocks = new ArrayList<>();
		Map<String, String> cur = null;
		String key = null;
		for (String line : Files.readAllLines(file)) {
			if (line.startsWith("#"))
				continue;
			java.util.regex.Matcher m = java.util.regex.Pattern
				.compile("^(requires|setup|case|params|types|query|reference):(.*)$").matcher(line);
			if (m.matches()) {
				key = m.group(1);
				if (key.equals("requires") || key.equals("setup") || key.equals("case") || cur == null) {
					cur = new LinkedHashMap<>();
					blocks.add(cur);
				}
				cur.put(key, m.group(2).trim());
			} else if (key != null) {
				cur.put(key, (cur.get(key) + "\n" + line).trim());
			}
		}
		return blocks;
	}

	static void runFile(Connection conn, Path file) throws Exception {
		for (Map<String, String> b : parse(file)) {
			if (b.containsKey("requires")) {
				// a family that is not installed: skip the file
				String missing = missingFunctions(conn, b.get("requires"));
				if (!missing.isEmpty()) {
					System.out.println("skip " + file.getFileName() + ": needs " + missing);
					return;
				}
				continue;
			}
			if (b.containsKey("setup")) {
				try (Statement st = conn.createStatement()) {
					st.execute(b.get("setup"));
				}
				continue;
			}
			String name = file.getFileName() + ": " + b.get("case");
			try {
				String problem = runCase(conn, b);
				if (problem == null) {
					System.out.println("ok   " + name);
				} else {
					failures++;
					System.out.println("FAIL " + name + ": " + problem);
				}
			} catch (Exception e) {
				failures++;
				System.out.println("FAIL " + name + ": " + e);
			}
		}
	}

	static String missingFunctions(Connection conn, String names) throws Exception {
		List<String> missing = new ArrayList<>();
		try (PreparedStatement ps = conn.prepareStatement(
				"SELECT count(*) FROM customer_success_functions WHERE name = ?")) {
			for (String n : names.split(",")) {
				ps.setString(1, n.trim());
				try (ResultSet rs = ps.executeQuery()) {
					rs.next();
					if (rs.getLong(1) == 0)
						missing.add(n.trim());
				}
			}
		}
		return String.join(", ", missing);
	}

	static String typeName(int sqlType) {
		switch (sqlType) {
			case Types.DOUBLE: return "double";
			case Types.BIGINT: return "bigint";
			case Types.VARCHAR: return "text";
			case Types.OTHER: return "other";
			default: return "jdbc type " + sqlType;
		}
	}

	static List<List<Object>> fetch(Connection conn, String sql, double[] params, List<String> types)
		throws Exception {
		try (PreparedStatement ps = conn.prepareStatement(sql)) {
			// a reference statement without placeholders takes no parameters
			for (int i = 0; i < params.length && sql.indexOf('?') >= 0; i++)
				ps.setDouble(i + 1, params[i]);
			List<List<Object>> rows = new ArrayList<>();
			try (ResultSet rs = ps.executeQuery()) {
				ResultSetMetaData md = rs.getMetaData();
				for (int c = 1; c <= md.getColumnCount(); c++)
					types.add(typeName(md.getColumnType(c)));
				while (rs.next()) {
					List<Object> row = new ArrayList<>();
					for (int c = 1; c <= md.getColumnCount(); c++) {
						switch (md.getColumnType(c)) {
							case Types.DOUBLE:
								double d = rs.getDouble(c);
								row.add(rs.wasNull() ? null : (Object) d);
								break;
							case Types.BIGINT:
								long l = rs.getLong(c);
								row.add(rs.wasNull() ? null : (Object) l);
								break;
							default:
								row.add(rs.getString(c));
						}
					}
					rows.add(row);
				}
			}
			return rows;
		}
	}

	static String runCase(Connection conn, Map<String, String> b) throws Exception {
		String[] ps = b.getOrDefault("params", "").trim().split("\\s+");
		double[] params = new double[b.getOrDefault("params", "").isBlank() ? 0 : ps.length];
		for (int i = 0; i < params.length; i++)
			params[i] = Double.parseDouble(ps[i]);
		String want = b.getOrDefault("types", "").trim();
		List<List<Object>> got = null;
		for (int run = 0; run < 6; run++) {
			List<String> types = new ArrayList<>();
			List<List<Object>> rows = fetch(conn, b.get("query"), params, types);
			if (!String.join(" ", types).equals(want))
				return "run " + run + ": result types " + types + ", expected " + want;
			if (got != null && !got.equals(rows))
				return "run " + run + " returned other rows than run 0";
			got = rows;
		}
		List<List<Object>> ref = fetch(conn, b.get("reference"), params, new ArrayList<>());
		if (got.isEmpty())
			return "no rows";
		if (got.size() != ref.size())
			return got.size() + " rows, reference has " + ref.size();
		for (int r = 0; r < got.size(); r++) {
			for (int c = 0; c < got.get(r).size(); c++) {
				Object g = got.get(r).get(c), e = ref.get(r).get(c);
				boolean same;
				if (g instanceof Double && e instanceof Double) {
					double x = (Double) g, y = (Double) e;
					same = Math.abs(x - y) <= 1e-12 * Math.max(1.0, Math.max(Math.abs(x), Math.abs(y)));
				} else {
					same = String.valueOf(g).equals(String.valueOf(e));
				}
				if (!same)
					return "row " + r + " column " + (c + 1) + ": got " + g + ", reference " + e;
			}
		}
		return null;
	}
}
