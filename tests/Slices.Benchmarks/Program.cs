// Load scenarios against a running service arrive with the benchmarks issue; until then this only prints its usage.
Console.WriteLine("usage: dotnet run -c Release --project tests/Slices.Benchmarks -- [--scenario NAME|all] [--duration 20s] [--connections 32] [--rows N]");
