using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Cost of compiled firmware code on nanoFramework's IL interpreter, read from the assembly with
/// System.Reflection.Metadata: the device executes IL instruction by instruction, so its cost is the
/// number of IL instructions executed. Generated loops are counted loops with constant bounds
/// (<c>for (int i = 0; i &lt; N; i++)</c>), so executed counts follow from the IL: a loop region
/// runs N times plus one final bound check. Calls into the same assembly add the callee's count;
/// where a branch skips code inside a region the whole region is counted (an upper bound).
/// </summary>
internal sealed class IlCost
{
    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private readonly MetadataReader _reader;
    private readonly PEReader _pe;
    private readonly Dictionary<int, MethodDefinitionHandle> _methods = new();
    private readonly Dictionary<MethodDefinitionHandle, long> _executed = new();

    public IlCost(byte[] image)
    {
        _pe = new PEReader(ImmutableArray.Create(image));
        _reader = _pe.GetMetadataReader();
        foreach (MethodDefinitionHandle handle in _reader.MethodDefinitions)
        {
            _methods[MetadataTokens.GetToken(handle)] = handle;
        }
    }

    /// <summary>The innermost loops of a method: their IL instruction count per iteration and multiplications per iteration.</summary>
    public IReadOnlyList<(int Instructions, int Multiplies, int Trips)> InnerLoops(string type, string method)
    {
        Instruction[] code = Decode(Find(type, method));
        var loops = Loops(code);
        return loops.Where(l => !loops.Any(o => o != l && o.Start >= l.Start && o.End <= l.End))
            .Select(l => (l.End - l.Start + 1, code[l.Start..(l.End + 1)].Count(i => i.OpCode == OpCodes.Mul), l.Trips))
            .ToArray();
    }

    /// <summary>IL instructions executed by one call of <paramref name="method"/> (callees in this assembly included).</summary>
    public long Executed(string type, string method) => Executed(Find(type, method));

    /// <summary>Multiplications executed by one call (to count multiply-accumulates).</summary>
    public long Multiplies(string type, string method)
    {
        Instruction[] code = Decode(Find(type, method));
        return Count(code, Loops(code), 0, code.Length - 1, i => i.OpCode == OpCodes.Mul ? 1 : 0, followCalls: false);
    }

    private long Executed(MethodDefinitionHandle handle)
    {
        if (_executed.TryGetValue(handle, out long known))
        {
            return known;
        }

        _executed[handle] = 0; // recursion guard
        Instruction[] code = Decode(handle);
        long total = Count(code, Loops(code), 0, code.Length - 1, _ => 1, followCalls: true);
        _executed[handle] = total;
        return total;
    }

    private long Count(Instruction[] code, List<Loop> loops, int from, int to, Func<Instruction, long> weight, bool followCalls)
    {
        long total = 0;
        for (int i = from; i <= to; i++)
        {
            Loop? loop = loops.Where(l => l.Start == i && l.End <= to && !(l.Start == from && l.End == to)).OrderByDescending(l => l.End).FirstOrDefault();
            if (loop is not null)
            {
                long region = Count(code, loops, loop.Start, loop.End, weight, followCalls);
                long check = Enumerable.Range(loop.End - 2, 3).Sum(k => weight(code[k]));
                total += loop.Trips * region + check;
                i = loop.End;
                continue;
            }

            total += weight(code[i]);
            if (followCalls && (code[i].OpCode == OpCodes.Call || code[i].OpCode == OpCodes.Callvirt)
                && _methods.TryGetValue(code[i].Operand, out MethodDefinitionHandle callee))
            {
                total += Executed(callee);
            }
        }

        return total;
    }

    /// <summary>Loops are backward branches; the bound is the constant compared just before the branch.</summary>
    private static List<Loop> Loops(Instruction[] code)
    {
        var loops = new List<Loop>();
        for (int b = 0; b < code.Length; b++)
        {
            Instruction branch = code[b];
            if (branch.OpCode.FlowControl != FlowControl.Cond_Branch || branch.Target >= branch.Offset)
            {
                continue;
            }

            int start = Array.FindIndex(code, i => i.Offset == branch.Target);
            Instruction bound = code[b - 1];
            if (!IsLdcI4(bound, out int trips))
            {
                throw new InvalidOperationException($"loop at IL_{branch.Offset:x4} has no constant bound ({bound.OpCode})");
            }
            // The increment just before the bound check: ldloc i; ldc step; add; stloc i (i++ is step 1).
            int step = 1;
            if (b >= 6 && code[b - 4].OpCode == OpCodes.Add && IsLdcI4(code[b - 5], out int increment))
            {
                step = increment;
            }

            loops.Add(new Loop(start, b, (trips + step - 1) / step));
        }

        return loops;
    }

    private static bool IsLdcI4(Instruction instruction, out int value)
    {
        OpCode op = instruction.OpCode;
        if (op == OpCodes.Ldc_I4 || op == OpCodes.Ldc_I4_S)
        {
            value = instruction.Operand;
            return true;
        }

        if (op.Value >= OpCodes.Ldc_I4_0.Value && op.Value <= OpCodes.Ldc_I4_8.Value)
        {
            value = op.Value - OpCodes.Ldc_I4_0.Value;
            return true;
        }

        value = 0;
        return false;
    }

    private MethodDefinitionHandle Find(string type, string method)
    {
        foreach (MethodDefinitionHandle handle in _reader.MethodDefinitions)
        {
            MethodDefinition definition = _reader.GetMethodDefinition(handle);
            TypeDefinition owner = _reader.GetTypeDefinition(definition.GetDeclaringType());
            if (_reader.GetString(definition.Name) == method && _reader.GetString(owner.Name) == type)
            {
                return handle;
            }
        }

        throw new InvalidOperationException($"{type}.{method} not found");
    }

    private Instruction[] Decode(MethodDefinitionHandle handle)
    {
        MethodBodyBlock body = _pe.GetMethodBody(_reader.GetMethodDefinition(handle).RelativeVirtualAddress);
        BlobReader il = body.GetILReader();
        var code = new List<Instruction>();
        while (il.RemainingBytes > 0)
        {
            int offset = il.Offset;
            short value = il.ReadByte();
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il.ReadByte());
            }

            OpCode opCode = s_opCodes[value];
            int operand = 0;
            int target = -1;
            switch (opCode.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                    target = il.ReadSByte() + il.Offset;
                    break;
                case OperandType.InlineBrTarget:
                    target = il.ReadInt32() + il.Offset;
                    break;
                case OperandType.ShortInlineI:
                    operand = opCode == OpCodes.Ldc_I4_S ? il.ReadSByte() : il.ReadByte();
                    break;
                case OperandType.ShortInlineVar:
                    operand = il.ReadByte();
                    break;
                case OperandType.InlineVar:
                    operand = il.ReadUInt16();
                    break;
                case OperandType.ShortInlineR:
                    il.ReadSingle();
                    break;
                case OperandType.InlineR:
                case OperandType.InlineI8:
                    il.ReadInt64();
                    break;
                case OperandType.InlineSwitch:
                    int cases = il.ReadInt32();
                    il.Offset += 4 * cases;
                    break;
                default:
                    operand = il.ReadInt32();
                    break;
            }

            code.Add(new Instruction(offset, opCode, operand, target));
        }

        return code.ToArray();
    }

    private sealed record Instruction(int Offset, OpCode OpCode, int Operand, int Target);

    private sealed record Loop(int Start, int End, int Trips);
}
