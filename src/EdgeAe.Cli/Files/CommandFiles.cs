using EdgeAe.IO;

namespace EdgeAe.Cli.Files;

/// <summary>Whether a command reads or writes a file.</summary>
internal enum FileUse
{
    Input,
    Output,
}

/// <summary>A file a command reads or writes, with the option that named it and what it is (for messages).</summary>
/// <param name="Option">The option as the user typed it, e.g. <c>--data</c>; derived outputs name their origin, e.g. <c>--out (checkpoint)</c>.</param>
/// <param name="Path">The path, or null when the option was not given.</param>
/// <param name="Use">Read or written.</param>
/// <param name="What">What the file is: "data file", "weight file", "model declaration", …</param>
internal sealed record FileArgument(string Option, string? Path, FileUse Use, string What)
{
    /// <summary>How messages name the file: the option and the path, unless a file no option names says where it comes from.</summary>
    public string Named => Label ?? $"{Option} {Path}";

    /// <summary>Replaces <see cref="Named"/> for a file the user did not name with an option (a declaration's baked weights).</summary>
    public string? Label { get; init; }

    public static FileArgument Input(string option, string? path, string what) => new(option, path, FileUse.Input, what);

    public static FileArgument Output(string option, string? path, string what) => new(option, path, FileUse.Output, what);

    /// <summary>
    /// A model declaration and the weight files it bakes (<c>Weights = "…"</c>, found beside it as the command line finds
    /// them): those are read too, so no output may land on them.
    /// </summary>
    public static IEnumerable<FileArgument> Declaration(string option, string? path, string what = "model declaration")
    {
        yield return Input(option, path, what);
        if (path is null || !File.Exists(path))
        {
            yield break;
        }

        string source;
        try
        {
            source = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break; // reading the declaration reports it
        }

        foreach ((string name, string weights) in ModelCompiler.BakedWeightFiles(source, path))
        {
            yield return Input(option, weights, "weight file") with { Label = $"the weight file {weights} that {option} {path} bakes (Weights = \"{name}\")" };
        }
    }
}

/// <summary>
/// The checks every command makes on its files before any work, in one place: inputs exist and are files; every
/// output can be written (its folder exists or can be created, is writable, and the path is not a folder); no output
/// is the same file as an input — compared by full path and by file identity, so <c>./x</c>, symbolic and hard links
/// count (<see cref="FileIdentity.SameFile"/>) — or as another output. Naming one file twice is a usage error (exit 2);
/// a file that is missing or cannot be written is an error of the run (exit 1).
/// </summary>
internal static class CommandFiles
{
    /// <summary>Throws a one-line <see cref="CliException"/> for the first problem; returns when all files are fine.</summary>
    public static void Check(IEnumerable<FileArgument> files)
    {
        FileArgument[] given = files.Where(f => f.Path is not null).Distinct().ToArray();
        foreach (FileArgument file in given)
        {
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                throw CliException.Usage($"invalid value '{file.Path}' for {file.Option} (the path is empty)");
            }
        }

        foreach (FileArgument input in given.Where(f => f.Use == FileUse.Input))
        {
            if (Directory.Exists(input.Path))
            {
                throw new CliException($"{input.Option} {input.Path} is a folder, not {("AEIOU".Contains(char.ToUpperInvariant(input.What[0]), StringComparison.Ordinal) ? "an" : "a")} {input.What}");
            }

            if (!File.Exists(input.Path))
            {
                throw new CliException($"{input.What} not found: {input.Path}");
            }
        }

        FileArgument[] outputs = given.Where(f => f.Use == FileUse.Output).ToArray();
        foreach (FileArgument output in outputs)
        {
            if (AtomicFile.ProblemWriting(output.Path!, createsFolders: true) is { } problem)
            {
                throw new CliException($"cannot write {output.Option} {output.Path}: {problem}");
            }
        }

        for (int o = 0; o < outputs.Length; o++)
        {
            foreach (FileArgument input in given.Where(f => f.Use == FileUse.Input))
            {
                if (FileIdentity.SameFile(outputs[o].Path!, input.Path!))
                {
                    throw CliException.Usage($"{outputs[o].Option} {outputs[o].Path} is the same file as {input.Named}: writing it would destroy the input; choose another {FirstWord(outputs[o].Option)}");
                }
            }

            for (int other = 0; other < o; other++)
            {
                if (FileIdentity.SameFile(outputs[o].Path!, outputs[other].Path!))
                {
                    throw CliException.Usage($"{outputs[o].Option} {outputs[o].Path} and {outputs[other].Option} {outputs[other].Path} are the same file; choose another {FirstWord(outputs[o].Option)}");
                }
            }
        }
    }

    private static string FirstWord(string option) => option.Split(' ')[0];
}
