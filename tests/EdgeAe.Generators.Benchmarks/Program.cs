using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(EdgeAe.Generators.Benchmarks.GeneratorCostBenchmarks).Assembly).Run(args);
