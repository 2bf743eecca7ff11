using EdgeAe.IO;
using Google.Protobuf;

namespace EdgeAe.Onnx.Tests;

/// <summary>Never a partial import: both files or neither; an output never overwrites the input.</summary>
public sealed class SaveTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "edgeae-onnx-save-" + Guid.NewGuid().ToString("N"));

    public SaveTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private string ValidOnnx()
    {
        string path = PathOf("model.onnx");
        File.WriteAllBytes(path, new ReferenceAe(1, [16, 8, 4, 8, 16], ["Relu", "Relu", "Relu", "Sigmoid"]).Dynamo(13, 1, out _));
        return path;
    }

    [Fact]
    public void Import_writes_a_declaration_and_a_weight_file_that_belong_together()
    {
        string onnx = ValidOnnx();
        ImportedModel model = OnnxImporter.ImportFile(onnx, PathOf("Model.cs"), PathOf("model.eaw"), new OnnxImportOptions { ClassName = "Model" });
        Assert.Equal(model.Declaration, File.ReadAllText(PathOf("Model.cs")));
        WeightFileInfo info = WeightFile.Read(PathOf("model.eaw"));
        Assert.Equal(model.Topology, info.Topology);
        Assert.Contains("public partial class Model;", model.Declaration);
        Assert.Contains("// Weights: model.eaw", model.Declaration);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void A_failed_import_leaves_existing_outputs_as_they_were()
    {
        string onnx = PathOf("bad.onnx");
        var g = new GraphBuilder(13).Input("x", 4);
        g.Node("Elu", "e", ["x"], "y");
        g.Output("y", 4);
        File.WriteAllBytes(onnx, g.Build());
        File.WriteAllText(PathOf("Model.cs"), "previous declaration");
        File.WriteAllText(PathOf("model.eaw"), "previous weights");
        Assert.Throws<OnnxImportException>(() => OnnxImporter.ImportFile(onnx, PathOf("Model.cs"), PathOf("model.eaw")));
        Assert.Equal("previous declaration", File.ReadAllText(PathOf("Model.cs")));
        Assert.Equal("previous weights", File.ReadAllText(PathOf("model.eaw")));
        Assert.Equal(3, Directory.GetFiles(_folder).Length);
    }

    [Fact]
    public void A_declaration_that_cannot_be_written_replaces_nothing()
    {
        string onnx = ValidOnnx();
        File.WriteAllText(PathOf("model.eaw"), "previous weights");
        var written = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(PathOf("model.eaw"), written);
        ImportedModel model = OnnxImporter.Import(onnx);

        // Both files are complete on disk before either target is replaced: the weight file is not even rewritten.
        OnnxImportException e = Assert.Throws<OnnxImportException>(() => model.Save(PathOf("Model.cs"), PathOf("model.eaw"), (_, _) => throw new IOException("disk full"), null));
        Assert.Equal(OnnxImportError.Io, e.Reason);
        Assert.Equal($"cannot write '{PathOf("Model.cs")}': disk full (neither file was replaced)", e.Message);
        Assert.Equal("previous weights", File.ReadAllText(PathOf("model.eaw")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(PathOf("model.eaw")));
        Assert.False(File.Exists(PathOf("Model.cs")));
        Assert.False(File.Exists(PathOf("fresh.eaw")));
        Assert.Throws<OnnxImportException>(() => model.Save(PathOf("Model.cs"), PathOf("fresh.eaw"), (_, _) => throw new IOException("disk full"), null));
        Assert.False(File.Exists(PathOf("fresh.eaw")));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));

        // A folder where the declaration should go is refused before any work.
        Directory.CreateDirectory(PathOf("Folder.cs"));
        Assert.Equal(OnnxImportError.Io, Assert.Throws<OnnxImportException>(() => model.Save(PathOf("Folder.cs"), PathOf("model.eaw"))).Reason);
        Assert.Equal("previous weights", File.ReadAllText(PathOf("model.eaw")));

        // A path that cannot be written is refused before any work: the new weight file is not created.
        Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(onnx).Save(PathOf("missing/Model.cs"), PathOf("new.eaw")));
        Assert.False(File.Exists(PathOf("new.eaw")));
    }

    [Fact]
    public void When_the_declarations_rename_fails_the_previous_weight_file_is_put_back()
    {
        string onnx = ValidOnnx();
        File.WriteAllText(PathOf("model.eaw"), "previous weights");
        ImportedModel model = OnnxImporter.Import(onnx);

        // Between the renames the declaration's target becomes a folder: its rename fails after the weight file's.
        OnnxImportException e = Assert.Throws<OnnxImportException>(() => model.Save(PathOf("Model.cs"), PathOf("model.eaw"), WriteText, () => Directory.CreateDirectory(PathOf("Model.cs"))));
        Assert.Equal(OnnxImportError.Io, e.Reason);
        Assert.EndsWith("(the previous weight file was put back)", e.Message);
        Assert.Equal("previous weights", File.ReadAllText(PathOf("model.eaw")));
        Directory.Delete(PathOf("Model.cs"));

        // Without a previous weight file, the new one is removed again.
        e = Assert.Throws<OnnxImportException>(() => model.Save(PathOf("Model.cs"), PathOf("fresh.eaw"), WriteText, () => Directory.CreateDirectory(PathOf("Model.cs"))));
        Assert.EndsWith("(the new weight file was removed again)", e.Message);
        Assert.False(File.Exists(PathOf("fresh.eaw")));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void An_import_killed_between_the_renames_leaves_the_new_weights_beside_the_previous_declaration_which_tells()
    {
        // The first import: a 16→8→4→8→16 model, declared as Model.
        string declaration = PathOf("Model.cs"), weights = PathOf("model.eaw");
        ImportedModel first = OnnxImporter.ImportFile(ValidOnnx(), declaration, weights, new OnnxImportOptions { ClassName = "Model" });
        string firstDeclaration = File.ReadAllText(declaration);
        Assert.Contains($"// Weights: model.eaw, written with this declaration: CRC-32 0x{first.WeightFileChecksum:X8}", firstDeclaration);
        Assert.Equal(first.WeightFileChecksum, WeightFile.Read(weights).Checksum);
        Type model = CompiledModel(firstDeclaration);

        // A second import of another topology, killed between the renames (the action stops Save as a kill would).
        byte[] other = new ReferenceAe(5, [16, 6, 16], ["Tanh", "Sigmoid"]).Dynamo(13, 0, out _);
        ImportedModel second = OnnxImporter.Import(other, "other.onnx", new OnnxImportOptions { ClassName = "Model" }, weights);
        Assert.Throws<KilledException>(() => second.Save(declaration, weights, WriteText, () => throw new KilledException()));

        // The weight file is renamed first: the new weights beside the previous declaration, never the reverse.
        Assert.Equal(second.WeightFile.ToArray(), File.ReadAllBytes(weights));
        Assert.Equal(firstDeclaration, File.ReadAllText(declaration));

        // Loading the pair refuses it: the previous declaration's model is not the weight file's.
        WeightFileException refused = Assert.Throws<WeightFileException>(() => WeightFile.Load(weights, (IAutoencoder)Activator.CreateInstance(model)!));
        Assert.Equal(WeightFileErrorReason.TopologyMismatch, refused.Reason);

        // Of the same topology, the pair loads and computes the new model; the header's CRC-32 tells the files apart.
        byte[] retrained = new ReferenceAe(6, [16, 8, 4, 8, 16], ["Relu", "Relu", "Relu", "Sigmoid"]).Dynamo(13, 1, out _);
        ImportedModel third = OnnxImporter.Import(retrained, "retrained.onnx", new OnnxImportOptions { ClassName = "Model" }, weights);
        Assert.Throws<KilledException>(() => third.Save(declaration, weights, WriteText, () => throw new KilledException()));
        var loaded = (IAutoencoder)Activator.CreateInstance(model)!;
        WeightFile.Load(weights, loaded);
        Assert.Equal(third.WeightFile.ToArray(), File.ReadAllBytes(weights));
        Assert.Equal(firstDeclaration, File.ReadAllText(declaration));
        Assert.NotEqual(first.WeightFileChecksum, WeightFile.Read(weights).Checksum);
        Assert.DoesNotContain($"CRC-32 0x{WeightFile.Read(weights).Checksum:X8}", File.ReadAllText(declaration));

        // Running the import again completes the pair.
        third.Save(declaration, weights);
        Assert.Contains($"CRC-32 0x{WeightFile.Read(weights).Checksum:X8}", File.ReadAllText(declaration));
    }

    private static void WriteText(Stream stream, string text) => stream.Write(System.Text.Encoding.UTF8.GetBytes(text));

    private static Type CompiledModel(string declaration)
    {
        byte[] image = Compiled.Compile("Killed" + Guid.NewGuid().ToString("N"), [("Model.cs", declaration)]);
        return System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(image)).GetType("Model", throwOnError: true)!;
    }

    /// <summary>Stands for the process being killed: no handler of Save's catches it.</summary>
    private sealed class KilledException : Exception;

    [Fact]
    public void An_output_that_is_the_input_is_refused_before_any_work()
    {
        string onnx = ValidOnnx();
        byte[] before = File.ReadAllBytes(onnx);
        OnnxImportException e = Assert.Throws<OnnxImportException>(() => OnnxImporter.ImportFile(onnx, PathOf("Model.cs"), Path.Combine(_folder, ".", "model.onnx")));
        Assert.Equal(OnnxImportError.Io, e.Reason);
        Assert.Equal(before, File.ReadAllBytes(onnx));
        Assert.False(File.Exists(PathOf("Model.cs")));
        Assert.Throws<OnnxImportException>(() => OnnxImporter.ImportFile(onnx, PathOf("same"), PathOf("same")));
    }

    [Fact]
    public void Export_of_a_weight_file_is_written_atomically_and_never_over_its_input()
    {
        string onnx = ValidOnnx();
        OnnxImporter.ImportFile(onnx, PathOf("Model.cs"), PathOf("model.eaw"));
        OnnxExporter.ExportFile(PathOf("model.eaw"), PathOf("again.onnx"));
        Assert.Equal("16→8→4→8→16 (Relu, Relu, Relu, Sigmoid), BinaryCrossEntropy", OnnxImporter.Import(PathOf("again.onnx")).Topology);
        Assert.Throws<ArgumentException>(() => OnnxExporter.ExportFile(PathOf("model.eaw"), PathOf("model.eaw")));
        File.WriteAllText(PathOf("broken.eaw"), "not a weight file");
        Assert.Throws<WeightFileException>(() => OnnxExporter.ExportFile(PathOf("broken.eaw"), PathOf("again.onnx")));
        Assert.Equal("16→8→4→8→16 (Relu, Relu, Relu, Sigmoid), BinaryCrossEntropy", OnnxImporter.Import(PathOf("again.onnx")).Topology);
    }
}
