using EdgeAe.Cli.Commands;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli;

/// <summary>
/// Entry point of the edgeae command line, callable in process with any writers (the tests do):
/// parses with Spectre.Console.Cli, runs one command, and turns every user-facing error into one
/// line on <c>error</c> plus a non-zero exit code (a stack trace only with <c>--verbose</c>).
/// </summary>
internal static class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    /// <summary>Training was interrupted with Ctrl+C (SIGINT); SIGTERM exits with 143.</summary>
    public const int Cancelled = 130;

    /// <summary>Runs <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">The arguments after the program name.</param>
    /// <param name="output">Where results, progress and help go.</param>
    /// <param name="error">Where error lines go.</param>
    /// <param name="cacheDirectory">Folder of compiled declarations; null: <see cref="ModelCache.DefaultDirectory"/>.</param>
    /// <param name="cancellation">Stops training like Ctrl+C does.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, string? cacheDirectory = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole console = CreateConsole(output, terminal);
        var environment = new CliEnvironment
        {
            OutputConsole = console,
            ErrorConsole = CreateConsole(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected),
            Error = error,
            Terminal = terminal,
            CacheDirectory = cacheDirectory,
            Cancellation = cancellation,
        };
        bool verbose = args.Contains("--verbose");
        var registrar = new TypeRegistrar();
        registrar.RegisterInstance(typeof(CliEnvironment), environment);
        var app = new CommandApp(registrar);
        app.Configure(config =>
        {
            config.SetApplicationName("edgeae");
            config.ConfigureConsole(console);
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddCommand<TrainCommand>("train")
                .WithDescription("Train an autoencoder (default: the built-in 64→16→64 DigitsAe on the bundled UCI digits) and write its weights, a loss plot and reconstructions.")
                .WithExample("train")
                .WithExample("train", "--model", "Model.cs", "--data", "train.csv", "--validation-split", "0.1", "--corruption", "masking:0.3", "--out", "model.eaw");
            config.AddCommand<PrepareCommand>("prepare")
                .WithDescription("Write a data file (CSV streamed, or IDX) as a .f32 cache: float32 samples normalised as train would, normalisation and checksums in the header; train --data F.f32 reads it a block at a time (docs/data-cache.md).")
                .WithExample("prepare", "--data", "big.csv", "--out", "big.f32")
                .WithExample("prepare", "--data", "big.csv", "--label-column", "-1", "--standardize", "--out", "big.f32");
            config.AddCommand<EvalCommand>("eval")
                .WithDescription("Evaluate a weight file on a data set: mean loss, MSE and PSNR, beside the PCA baseline of the same code size.")
                .WithExample("eval", "--weights", "artifacts/digits.eaw");
            config.AddCommand<QuantizeCommand>("quantize")
                .WithDescription("Quantise a float32 weight file to an int8 model (post-training, calibrated on data) and report each layer's scales, saturation and error.")
                .WithExample("quantize", "--weights", "artifacts/digits.eaw", "--out", "artifacts/digits.int8.eaw")
                .WithExample("quantize", "--weights", "model.eaw", "--model", "Model.cs", "--calibration", "train.csv", "--method", "percentile", "--out", "model.int8.eaw");
            config.AddCommand<EncodeCommand>("encode")
                .WithDescription("Write the code of every sample as CSV or raw little-endian float32.")
                .WithExample("encode", "--weights", "artifacts/digits.eaw", "--out", "codes.csv");
            config.AddCommand<ReconstructCommand>("reconstruct")
                .WithDescription("Write every sample's reconstruction, in the data's original units (the weight file's normalisation undone), as CSV or raw float32.")
                .WithExample("reconstruct", "--weights", "model.eaw", "--data", "test.csv", "--out", "recon.csv");
            config.AddCommand<InspectCommand>("inspect")
                .WithDescription("Show a weight file's topology, sizes, normalisation and checksum status.")
                .WithExample("inspect", "artifacts/digits.eaw");
            config.AddCommand<CompressCommand>("compress")
                .WithDescription("Encode every sample into a packet (quantised code, model id, CRC-8) and write the packets back to back.")
                .WithExample("compress", "--weights", "model.eaw", "--data", "data.csv", "--out", "packets.bin");
            config.AddCommand<DecompressCommand>("decompress")
                .WithDescription("Decode a file of packets into reconstructions (CSV, in the data's original units).")
                .WithExample("decompress", "--weights", "model.eaw", "--in", "packets.bin", "--out", "recon.csv");
            config.AddCommand<RdCommand>("rd")
                .WithDescription("Rate-distortion report: bytes per sample, compression ratio, MSE and PSNR per weight file and bits, against lossless Deflate/Brotli; a table and a PNG.")
                .WithExample("rd", "--weights", "a.eaw", "--weights", "b.eaw", "--data", "test.csv", "--out", "rd.png");
            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Receive devices' packets over MQTT (shared subscription, QoS 1), decode and score them, store one row per (device, sequence) in SQLite or PostgreSQL; acknowledged after the commit. Stops cleanly on SIGINT/SIGTERM.")
                .WithExample("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", "model.eaw", "--db", "fleet.db");
            config.AddCommand<SimulateCommand>("simulate")
                .WithDescription("Publish data rows as a fleet of devices would: sequenced packets at QoS 1, one connection per device.")
                .WithExample("simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", "model.eaw", "--devices", "100", "--count", "50");
            config.AddCommand<CalibrateCommand>("calibrate")
                .WithDescription("Score normal data and store an anomaly threshold (percentile:P, meanstd:K, gamma:Q or fpr:R) in a copy of the weight file.")
                .WithExample("calibrate", "--weights", "model.eaw", "--data", "normal.csv", "--method", "percentile:99.5", "--out", "model.calibrated.eaw");
            config.AddCommand<DetectCommand>("detect")
                .WithDescription("Score every sample, or every window of a stream of frames, against the stored threshold, with an optional k-of-n vote or EMA; CSV or --json.")
                .WithExample("detect", "--weights", "model.calibrated.eaw", "--data", "stream.csv", "--window", "5", "--vote", "3/5");
            config.AddCommand<ExportCommand>("export")
                .WithDescription("Write the C# source the generator produces for a declaration, or (--onnx) a weight file's model as an ONNX graph.")
                .WithExample("export", "--model", "Model.cs", "--out", "Model.g.cs")
                .WithExample("export", "--weights", "model.eaw", "--onnx", "model.onnx");
            config.AddCommand<ImportCommand>("import")
                .WithDescription("Turn an ONNX dense autoencoder (PyTorch, Keras via tf2onnx) into an EdgeAe declaration and a weight file.")
                .WithExample("import", "model.onnx", "--out", "Model.cs", "--weights", "model.eaw");
        });

        try
        {
            return app.Run(args);
        }
        catch (Exception e)
        {
            (int code, string message, IReadOnlyList<string> details) = Describe(e, args);
            error.WriteLine($"edgeae: {message}");
            foreach (string line in details)
            {
                error.WriteLine(line);
            }

            if (verbose)
            {
                error.WriteLine(e.ToString());
            }

            return code;
        }
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool terminal)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
        {
            console.Profile.Width = 120;
        }

        return console;
    }

    /// <summary>The exit code and the one-line message of an exception that ended a command.</summary>
    private static (int Code, string Message, IReadOnlyList<string> Details) Describe(Exception e, IReadOnlyList<string> args)
    {
        Exception root = e is CommandRuntimeException { InnerException: CliException inner } ? inner : e;
        return root switch
        {
            CliException cli => (cli.ExitCode, cli.Message, cli.Details),
            CommandAppException app => (UsageError, ConversionMessage(OneLine(app.Message), args), []),
            WeightFileException or DataFormatException or DataCacheException or TrainingDivergedException or IOException or UnauthorizedAccessException or Anomaly.AnomalyException
                => (Failure, FirstLine(root.Message), MoreLines(root.Message)),
            _ => (Failure, $"unexpected error: {OneLine(root.Message)} (run with --verbose for details)", []),
        };
    }

    /// <summary>
    /// Spectre.Console.Cli's "Failed to convert 'x' to Int32." (or "to Nullable`1." for an optional number) as the tool's
    /// own form, naming the option the value was given to and what it takes: "invalid value 'x' for --threads (expected
    /// an integer)". Other messages pass unchanged.
    /// </summary>
    internal static string ConversionMessage(string message, IReadOnlyList<string> args)
    {
        const string head = "Failed to convert '";
        int end = message.LastIndexOf("' to ", StringComparison.Ordinal);
        if (!message.StartsWith(head, StringComparison.Ordinal) || end < head.Length)
        {
            return message;
        }

        string value = message[head.Length..end];
        string? option = null;
        for (int i = 0; i < args.Count && option is null; i++)
        {
            if (args[i] == value && i > 0 && args[i - 1].StartsWith('-'))
            {
                option = args[i - 1];
            }
            else if (args[i].StartsWith('-') && args[i].EndsWith("=" + value, StringComparison.Ordinal))
            {
                option = args[i][..args[i].IndexOf('=', StringComparison.Ordinal)];
            }
        }

        if (option is null)
        {
            // The value is not among the arguments: an option at the end, or before another option, was given none (the
            // parser then tries to convert a name of its own).
            for (int i = 0; i < args.Count; i++)
            {
                if (args[i].StartsWith('-') && (i == args.Count - 1 || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    && Expected(OptionType(args[i])) is { } wanted)
                {
                    return $"{args[i]} needs a value ({wanted})";
                }
            }

            return $"invalid value '{value}'";
        }

        return $"invalid value '{value}' for {option} ({Expected(OptionType(option)) ?? "expected another form"})";
    }

    /// <summary>"expected an integer" and the like for an option's property type; null for a flag or an unknown option.</summary>
    private static string? Expected(Type? type)
    {
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type is null || type == typeof(bool) ? null
            : type == typeof(int) || type == typeof(long) || type == typeof(uint) || type == typeof(ushort) ? "expected an integer"
            : type == typeof(float) || type == typeof(double) ? "expected a number"
            : type.IsEnum ? "expected one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))
            : "expected another form";
    }

    /// <summary>The property type behind <paramref name="option"/> (e.g. <c>--threads</c>) in the commands' settings; null when none has it.</summary>
    private static Type? OptionType(string option)
    {
        string name = option.TrimStart('-');
        bool isLong = option.StartsWith("--", StringComparison.Ordinal);
        foreach (Type settings in typeof(CommandLine).Assembly.GetTypes().Where(t => typeof(CommandSettings).IsAssignableFrom(t)))
        {
            foreach (System.Reflection.PropertyInfo property in settings.GetProperties())
            {
                if (property.GetCustomAttributes(typeof(CommandOptionAttribute), inherit: true) is [CommandOptionAttribute attribute, ..]
                    && (isLong ? attribute.LongNames : attribute.ShortNames).Contains(name))
                {
                    return property.PropertyType;
                }
            }
        }

        return null;
    }

    private static string FirstLine(string text) => text.Split('\n')[0].TrimEnd();

    private static string[] MoreLines(string text) => text.Split('\n').Skip(1).Select(l => "  " + l.TrimEnd()).Where(l => l.Trim().Length > 0).ToArray();

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
