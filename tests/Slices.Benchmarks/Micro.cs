using System.Buffers;
using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Stages;

namespace Slices.Benchmarks;

// `--micro`: the most that two tunings from the list could save on one stage-get request, timed in this
// process without any I/O, so that differences far below the host's noise show:
// - System.Text.Json source generation: the service's options (reflection metadata, built once and cached) against
//   the same options with a source-generated context for Stage in front.
// - Dapper.AOT: Dapper's row parser with the service's type handlers (what Db.QueryPreparedAsync runs per request)
//   against the hand-written mapping that Dapper.AOT would generate in its place, over a reader holding the stage
//   row as Npgsql returns it (time as TimeSpan, bigint[] as long[]).
// Prints µs per call: the median of 5 rounds of 1,000,000 calls after a warm-up round.
public static class Micro
{
    private const int Calls = 1_000_000;

    public static void Run()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        TypeHandlers.Register();
        var stage = new Stage(123, "Studio A", "Main St 1", "A large stage with a lighting rig", new TimeOnly(8, 0), new TimeOnly(22, 0), [1, 2, 3]);
        var reflection = new JsonSerializerOptions();
        Json.Configure(reflection);
        var generated = new JsonSerializerOptions();
        Json.Configure(generated);
        generated.TypeInfoResolverChain.Insert(0, StageJsonContext.Default);
        var buffer = new ArrayBufferWriter<byte>(1024);
        Serialize(buffer, stage, reflection);
        var shipped = buffer.WrittenSpan.ToArray();
        Serialize(buffer, stage, generated);
        if (!buffer.WrittenSpan.SequenceEqual(shipped))
        {
            throw new InvalidOperationException("The source-generated context writes a different JSON than the service.");
        }

        var table = StageTable();

        Report("json: reflection metadata (as shipped)", () => Serialize(buffer, stage, reflection));
        Report("json: source-generated context", () => Serialize(buffer, stage, generated));
        Report("row: reader alone", () => Read(table, r => r));
        Report("row: Dapper row parser (as shipped)", () => Read(table, r => r.GetRowParser<StageRow>()(r)));
        Report("row: hand-written (what Dapper.AOT generates)", () => Read(table, r => new StageRow(
            r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), TimeOnly.FromTimeSpan(r.GetFieldValue<TimeSpan>(4)),
            TimeOnly.FromTimeSpan(r.GetFieldValue<TimeSpan>(5)), r.GetFieldValue<long[]>(6), r.GetInt64(7))));
    }

    private static void Serialize(ArrayBufferWriter<byte> buffer, Stage stage, JsonSerializerOptions options)
    {
        buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, stage, options);
    }

    private static void Read<T>(DataTable table, Func<DataTableReader, T> map)
    {
        using var reader = table.CreateDataReader();
        reader.Read();
        GC.KeepAlive(map(reader));
    }

    private static DataTable StageTable()
    {
        var table = new DataTable();
        table.Columns.Add("id", typeof(long));
        table.Columns.Add("name", typeof(string));
        table.Columns.Add("address", typeof(string));
        table.Columns.Add("description", typeof(string));
        table.Columns.Add("open_time", typeof(TimeSpan));
        table.Columns.Add("close_time", typeof(TimeSpan));
        table.Columns.Add("services", typeof(long[]));
        table.Columns.Add("version", typeof(long));
        table.Rows.Add(123L, "Studio A", "Main St 1", "A large stage with a lighting rig", TimeSpan.FromHours(8), TimeSpan.FromHours(22), new long[] { 1, 2, 3 }, 42L);
        return table;
    }

    private static void Report(string name, Action call)
    {
        var rounds = new double[5];
        for (var round = -1; round < rounds.Length; round++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Calls; i++)
            {
                call();
            }

            if (round >= 0)
            {
                rounds[round] = watch.Elapsed.TotalMicroseconds / Calls;
            }
        }

        Array.Sort(rounds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-48} {rounds[2],7:0.000} µs per call"));
    }

    // The service's stage row, as Stages.FindAsync reads it (a positional record: Dapper maps it by constructor).
    private sealed record StageRow(long Id, string Name, string Address, string Description, TimeOnly OpenTime, TimeOnly CloseTime, long[] Services, long Version);
}

[JsonSerializable(typeof(Stage))]
internal sealed partial class StageJsonContext : JsonSerializerContext;
