// hearth-stage: copy query results from a SQLite file into DuckDB staging tables, natively.
//
// `hearth export` reads millions of rows; through better-sqlite3 each value becomes a JS value and the
// read alone takes longer than the by-hand path (sqlite3 -csv, then DuckDB). This program runs the
// exporter's own SELECTs with SQLite's C API and appends every value to DuckDB's C appender, so no value
// is ever formatted as text, parsed, or turned into a JS object. It decides nothing: the exporter plans
// the queries and decodes the staged columns (data/export/native-stage.ts). All queries run in one read
// transaction: one snapshot of a file that may still be written.
//
// Usage: hearth-stage SQLITE_FILE DUCKDB_FILE MEMORY_LIMIT TEMP_DIR < jobs
// Jobs on stdin, repeated:  TABLE <name>\n COLS <n>\n (<column name>\t<d|t>\n){n} SQL <bytes>\n <sql>\n
//   d: DOUBLE (SQLite integers and reals as doubles, like better-sqlite3 without safe integers)
//   t: VARCHAR (text as stored; numbers as their shortest round-trip decimal)
//   c: a category: INTEGER codes, 0, 1, … in order of first appearance (NULL stays NULL), with the
//      values in table <name>__dict__<column> (k INTEGER, v VARCHAR). DuckDB appends a string at
//      about 150 ns, so a column with few distinct values (ids, labels, zones) travels as codes.
// A named parameter @since, when a query has one, is bound to $HEARTH_STAGE_SINCE.
// Stdout: `rows <table> <n>` every 65,536 rows and at the end of each table; `rss_kb <n>` last.
// Errors: one line `hearth-stage: <what>` on stderr, exit 1 (the DuckDB file is then discarded).
#include <sqlite3.h>
#include <sched.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <sys/resource.h>
#include <unordered_map>
#include <vector>

// The part of DuckDB's stable C API used here (duckdb.h is not shipped with @duckdb/node-bindings; its
// libduckdb.so is). Handles are pointers to opaque structs.
extern "C" {
typedef uint64_t idx_t;
typedef enum { DuckDBSuccess = 0, DuckDBError = 1 } duckdb_state;
typedef struct _duckdb_database { void *internal_ptr; } *duckdb_database;
typedef struct _duckdb_connection { void *internal_ptr; } *duckdb_connection;
typedef struct _duckdb_appender { void *internal_ptr; } *duckdb_appender;
typedef struct _duckdb_result_opaque duckdb_result;
typedef struct _duckdb_logical_type { void *internal_ptr; } *duckdb_logical_type;
typedef struct _duckdb_data_chunk { void *internal_ptr; } *duckdb_data_chunk;
typedef struct _duckdb_vector { void *internal_ptr; } *duckdb_vector;
enum { DUCKDB_TYPE_INTEGER = 4, DUCKDB_TYPE_DOUBLE = 11, DUCKDB_TYPE_VARCHAR = 17 };
duckdb_logical_type duckdb_create_logical_type(int type);
void duckdb_destroy_logical_type(duckdb_logical_type *type);
duckdb_data_chunk duckdb_create_data_chunk(duckdb_logical_type *types, idx_t column_count);
void duckdb_destroy_data_chunk(duckdb_data_chunk *chunk);
void duckdb_data_chunk_reset(duckdb_data_chunk chunk);
duckdb_vector duckdb_data_chunk_get_vector(duckdb_data_chunk chunk, idx_t col_idx);
void duckdb_data_chunk_set_size(duckdb_data_chunk chunk, idx_t size);
idx_t duckdb_vector_size(void);
void *duckdb_vector_get_data(duckdb_vector vector);
void duckdb_vector_ensure_validity_writable(duckdb_vector vector);
uint64_t *duckdb_vector_get_validity(duckdb_vector vector);
void duckdb_vector_assign_string_element_len(duckdb_vector vector, idx_t index, const char *str, idx_t str_len);
duckdb_state duckdb_append_data_chunk(duckdb_appender appender, duckdb_data_chunk chunk);
duckdb_state duckdb_appender_end_row(duckdb_appender appender);
duckdb_state duckdb_append_int32(duckdb_appender appender, int32_t value);
duckdb_state duckdb_append_varchar_length(duckdb_appender appender, const char *val, idx_t length);
duckdb_state duckdb_open(const char *path, duckdb_database *out);
void duckdb_close(duckdb_database *db);
duckdb_state duckdb_connect(duckdb_database db, duckdb_connection *out);
void duckdb_disconnect(duckdb_connection *con);
duckdb_state duckdb_query(duckdb_connection con, const char *sql, duckdb_result *out);
duckdb_state duckdb_appender_create(duckdb_connection con, const char *schema, const char *table, duckdb_appender *out);
const char *duckdb_appender_error(duckdb_appender appender);
duckdb_state duckdb_appender_close(duckdb_appender appender);
duckdb_state duckdb_appender_destroy(duckdb_appender *appender);
}

namespace {

[[noreturn]] void fail(const std::string &what) {
  std::fprintf(stderr, "hearth-stage: %s\n", what.c_str());
  std::exit(1);
}

// SQL quoting: an identifier in double quotes, a string literal in single quotes, the quote doubled.
std::string quoted(const std::string &text, char q) {
  std::string out(1, q);
  for (char c : text) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

std::string quoteIdent(const std::string &name) { return quoted(name, '"'); }
std::string quoteString(const std::string &value) { return quoted(value, '\''); }

void duck(duckdb_connection con, const std::string &sql) {
  if (duckdb_query(con, sql.c_str(), nullptr) != DuckDBSuccess) fail("DuckDB refused: " + sql.substr(0, 200));
}

// The shortest decimal that reads back as the same double: what JS's String(number) gives.
std::string shortest(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == std::floor(v) && std::fabs(v) < 1e21) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[40];
  for (int p = 1; p <= 17; p++) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// JS's Number(text) for a numeric column holding text: NaN unless the whole (trimmed) text is a number.
double numberOf(const char *text) {
  while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') text++;
  if (*text == '\0') return 0;
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
  return *end == '\0' ? v : NAN;
}

struct Job {
  std::string table;
  std::vector<std::pair<std::string, char>> columns;
  std::string sql;
};

bool readJob(Job &job) {
  std::string word;
  if (!(std::cin >> word)) return false;
  if (word != "TABLE") fail("jobs: expected TABLE, got " + word);
  std::cin.get();
  std::getline(std::cin, job.table);
  size_t n = 0;
  if (!(std::cin >> word >> n) || word != "COLS") fail("jobs: expected COLS for " + job.table);
  std::cin.get();
  job.columns.clear();
  for (size_t i = 0; i < n; i++) {
    std::string line;
    if (!std::getline(std::cin, line)) fail("jobs: missing column of " + job.table);
    size_t tab = line.rfind('\t');
    if (tab == std::string::npos || tab + 2 != line.size() || (line[tab + 1] != 'd' && line[tab + 1] != 't' && line[tab + 1] != 'c'))
      fail("jobs: bad column line for " + job.table + ": " + line);
    job.columns.emplace_back(line.substr(0, tab), line[tab + 1]);
  }
  size_t bytes = 0;
  if (!(std::cin >> word >> bytes) || word != "SQL") fail("jobs: expected SQL for " + job.table);
  std::cin.get();
  job.sql.assign(bytes, '\0');
  if (!std::cin.read(job.sql.data(), static_cast<std::streamsize>(bytes))) fail("jobs: SQL of " + job.table + " cut short");
  return true;
}

void stage(sqlite3 *db, duckdb_connection con, const Job &job, const char *since) {
  std::string create = "CREATE OR REPLACE TABLE " + quoteIdent(job.table) + " (";
  for (size_t i = 0; i < job.columns.size(); i++) {
    if (i) create += ", ";
    const char kind = job.columns[i].second;
    create += quoteIdent(job.columns[i].first) + (kind == 'd' ? " DOUBLE" : kind == 'c' ? " INTEGER" : " VARCHAR");
  }
  duck(con, create + ")");

  sqlite3_stmt *stmt = nullptr;
  if (sqlite3_prepare_v2(db, job.sql.c_str(), static_cast<int>(job.sql.size()), &stmt, nullptr) != SQLITE_OK)
    fail("SQLite refused the query for " + job.table + ": " + sqlite3_errmsg(db));
  if (sqlite3_column_count(stmt) != static_cast<int>(job.columns.size()))
    fail("the query for " + job.table + " selects " + std::to_string(sqlite3_column_count(stmt)) + " columns, not " +
         std::to_string(job.columns.size()));
  int p = sqlite3_bind_parameter_index(stmt, "@since");
  if (p > 0) {
    if (!since) fail("the query for " + job.table + " needs @since and HEARTH_STAGE_SINCE is not set");
    sqlite3_bind_text(stmt, p, since, -1, SQLITE_STATIC);
  }

  duckdb_appender app = nullptr;
  if (duckdb_appender_create(con, nullptr, job.table.c_str(), &app) != DuckDBSuccess) fail("cannot append to " + job.table);
  const int n = static_cast<int>(job.columns.size());
  // Values go straight into one reused data chunk (2,048 rows): doubles written into the vector's
  // memory, strings copied once into it, NULLs as cleared validity bits. Appending value by value
  // through duckdb_append_* cost 80-200 ns a value; this is a fraction of it.
  std::vector<duckdb_logical_type> types;
  for (const auto &c : job.columns)
    types.push_back(duckdb_create_logical_type(c.second == 'd' ? DUCKDB_TYPE_DOUBLE : c.second == 'c' ? DUCKDB_TYPE_INTEGER : DUCKDB_TYPE_VARCHAR));
  // Per category column: value → code, and the values in code order.
  std::vector<std::unordered_map<std::string, int32_t>> codes(n);
  std::vector<std::vector<std::string>> values(n);
  duckdb_data_chunk chunk = duckdb_create_data_chunk(types.data(), types.size());
  for (auto &t : types) duckdb_destroy_logical_type(&t);
  const idx_t capacity = duckdb_vector_size();
  std::vector<duckdb_vector> vectors(n);
  std::vector<uint64_t *> validity(n);
  std::vector<double *> doubles(n);
  std::vector<int32_t *> ints(n);
  auto begin = [&]() {
    duckdb_data_chunk_reset(chunk);
    for (int i = 0; i < n; i++) {
      vectors[i] = duckdb_data_chunk_get_vector(chunk, i);
      duckdb_vector_ensure_validity_writable(vectors[i]);
      validity[i] = duckdb_vector_get_validity(vectors[i]);
      doubles[i] = job.columns[i].second == 'd' ? static_cast<double *>(duckdb_vector_get_data(vectors[i])) : nullptr;
      ints[i] = job.columns[i].second == 'c' ? static_cast<int32_t *>(duckdb_vector_get_data(vectors[i])) : nullptr;
    }
  };
  auto flush = [&](idx_t size) {
    duckdb_data_chunk_set_size(chunk, size);
    if (duckdb_append_data_chunk(app, chunk) != DuckDBSuccess) fail(job.table + ": " + duckdb_appender_error(app));
  };
  begin();
  idx_t r = 0;
  uint64_t rows = 0;
  int rc;
  std::string scratch;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int i = 0; i < n; i++) {
      const int type = sqlite3_column_type(stmt, i);
      if (type == SQLITE_NULL) {
        validity[i][r >> 6] &= ~(uint64_t{1} << (r & 63));
        if (doubles[i]) doubles[i][r] = 0;
        if (ints[i]) ints[i][r] = 0;
      } else if (ints[i]) {
        std::string key;
        if (type == SQLITE_TEXT || type == SQLITE_BLOB)
          key.assign(reinterpret_cast<const char *>(sqlite3_column_text(stmt, i)), static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
        else
          key = type == SQLITE_INTEGER ? std::to_string(sqlite3_column_int64(stmt, i)) : shortest(sqlite3_column_double(stmt, i));
        auto found = codes[i].find(key);
        if (found == codes[i].end()) {
          found = codes[i].emplace(key, static_cast<int32_t>(values[i].size())).first;
          values[i].push_back(key);
        }
        ints[i][r] = found->second;
      } else if (doubles[i]) {
        doubles[i][r] = type == SQLITE_INTEGER ? static_cast<double>(sqlite3_column_int64(stmt, i))
                        : type == SQLITE_FLOAT ? sqlite3_column_double(stmt, i)
                        : type == SQLITE_TEXT  ? numberOf(reinterpret_cast<const char *>(sqlite3_column_text(stmt, i)))
                                               : NAN;
      } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
        const char *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, i));
        duckdb_vector_assign_string_element_len(vectors[i], r, text, static_cast<idx_t>(sqlite3_column_bytes(stmt, i)));
      } else {
        scratch = type == SQLITE_INTEGER ? std::to_string(sqlite3_column_int64(stmt, i)) : shortest(sqlite3_column_double(stmt, i));
        duckdb_vector_assign_string_element_len(vectors[i], r, scratch.data(), scratch.size());
      }
    }
    rows++;
    if (++r == capacity) {
      flush(r);
      begin();
      r = 0;
    }
    if (rows % 65536 == 0) std::printf("rows %s %llu\n", job.table.c_str(), static_cast<unsigned long long>(rows)), std::fflush(stdout);
  }
  if (rc != SQLITE_DONE) fail("reading " + job.table + ": " + sqlite3_errmsg(db));
  if (r) flush(r);
  duckdb_destroy_data_chunk(&chunk);
  sqlite3_finalize(stmt);
  if (duckdb_appender_close(app) != DuckDBSuccess) fail(job.table + ": " + duckdb_appender_error(app));
  duckdb_appender_destroy(&app);
  for (int i = 0; i < n; i++) {
    if (job.columns[i].second != 'c') continue;
    const std::string dict = job.table + "__dict__" + job.columns[i].first;
    duck(con, "CREATE OR REPLACE TABLE " + quoteIdent(dict) + " (k INTEGER, v VARCHAR)");
    duckdb_appender da = nullptr;
    if (duckdb_appender_create(con, nullptr, dict.c_str(), &da) != DuckDBSuccess) fail("cannot append to " + dict);
    for (size_t k = 0; k < values[i].size(); k++) {
      if (duckdb_append_int32(da, static_cast<int32_t>(k)) != DuckDBSuccess ||
          duckdb_append_varchar_length(da, values[i][k].data(), values[i][k].size()) != DuckDBSuccess ||
          duckdb_appender_end_row(da) != DuckDBSuccess)
        fail(dict + ": " + duckdb_appender_error(da));
    }
    if (duckdb_appender_close(da) != DuckDBSuccess) fail(dict + ": " + duckdb_appender_error(da));
    duckdb_appender_destroy(&da);
  }
  std::printf("rows %s %llu\n", job.table.c_str(), static_cast<unsigned long long>(rows));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 5) fail("usage: hearth-stage SQLITE_FILE DUCKDB_FILE MEMORY_LIMIT TEMP_DIR < jobs");
  std::ios::sync_with_stdio(false);
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    fail(std::string(argv[1]) + ": " + (db ? sqlite3_errmsg(db) : "cannot open"));
  sqlite3_busy_timeout(db, 1000);  // as the JS reader: a writer holding the lock gets one clear line soon
  // One read transaction for every table: all of them see the same snapshot.
  if (sqlite3_exec(db, "BEGIN; SELECT COUNT(*) FROM sqlite_master;", nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string(argv[1]) + ": " + sqlite3_errmsg(db));

  duckdb_database ddb = nullptr;
  duckdb_connection con = nullptr;
  if (duckdb_open(argv[2], &ddb) != DuckDBSuccess) fail(std::string(argv[2]) + ": cannot open DuckDB");
  if (duckdb_connect(ddb, &con) != DuckDBSuccess) fail(std::string(argv[2]) + ": cannot connect to DuckDB");
  duck(con, "SET memory_limit = " + quoteString(argv[3]));
  duck(con, "SET temp_directory = " + quoteString(argv[4]));
  // As many threads as CPUs this process may run on (taskset, cgroups): DuckDB otherwise starts one per
  // core of the machine, and on one allowed core they contend (measured: 8.1 s vs 4.8 s for 5 M rows).
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const int allowed = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  if (allowed > 0) duck(con, "SET threads = " + std::to_string(allowed));

  const char *since = std::getenv("HEARTH_STAGE_SINCE");
  Job job;
  while (readJob(job)) stage(db, con, job, since);

  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  duck(con, "CHECKPOINT");
  duckdb_disconnect(&con);
  duckdb_close(&ddb);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("rss_kb %ld\n", usage.ru_maxrss);
  return 0;
}
